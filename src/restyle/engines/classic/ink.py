"""Chinese styles: ink painting (国画古风) and elegant gongbi-like style (清雅国风)."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext
from restyle.faces.types import Face

RICE_PAPER = (0.97, 0.955, 0.92)
INK = (0.09, 0.08, 0.08)
OCHRE, INDIGO = (0.86, 0.68, 0.44), (0.28, 0.34, 0.48)
SEAL_RED = (0.72, 0.12, 0.1)
GONGBI_INK = (0.24, 0.16, 0.13)
SILK_TOP, SILK_BOTTOM = (0.95, 0.93, 0.86), (0.88, 0.9, 0.84)
JADE_LINE = (0.55, 0.68, 0.6)
IVORY_SKIN = (0.98, 0.9, 0.84)
CHEEK_PINK = (0.93, 0.55, 0.55)
MINERALS = [  # gongbi pigments: malachite/jade, pale jade, azurite, indigo, pale ochre, ochre,
    # muted cinnabar, rouge pink, ivory, ink
    (0.36, 0.58, 0.48), (0.66, 0.8, 0.7), (0.36, 0.5, 0.68), (0.22, 0.27, 0.38), (0.88, 0.78, 0.6),
    (0.72, 0.56, 0.36), (0.72, 0.32, 0.27), (0.9, 0.7, 0.68), (0.95, 0.93, 0.85), (0.24, 0.26, 0.32),
    (0.94, 0.8, 0.7), (0.85, 0.66, 0.56),  # pale flesh tones, so skin does not turn cinnabar
]
FACE_WASH = [(0.0, 0.0), (0.35, 0.06), (0.6, 0.3), (1.0, 0.8)]  # darkness -> ink density on the face


def _stamp_seal(out: ops.Float, faces_right: bool, rng: np.random.Generator) -> None:
    """Stamp (in place) a red square seal with a few white strokes in the lower corner away from the face."""
    h, w = out.shape[:2]
    size = min(max(12, int(0.09 * min(h, w))), h, w)
    margin = int(0.05 * min(h, w))
    x0 = margin if faces_right else w - margin - size
    y0 = h - margin - size
    mask = np.zeros((size, size), np.uint8)
    cv2.rectangle(mask, (0, 0), (size - 1, size - 1), 255, -1)
    inner = max(1, size // 14)
    pad = size // 6
    cv2.rectangle(mask, (inner, inner), (size - 1 - inner, size - 1 - inner), 0, max(1, size // 24))
    for _ in range(5):
        p1 = rng.uniform(pad, size - pad, 2).astype(int)
        p2 = rng.uniform(pad, size - pad, 2).astype(int)
        if abs(p1[0] - p2[0]) > abs(p1[1] - p2[1]):
            p2[1] = p1[1]
        else:
            p2[0] = p1[0]
        cv2.line(mask, (int(p1[0]), int(p1[1])), (int(p2[0]), int(p2[1])), 0, max(1, size // 14))
    stamp = ops.to_float(mask) * np.float32(0.85)
    box = (slice(y0, y0 + size), slice(x0, x0 + size))
    out[box] = ops.towards(out[box], SEAL_RED, stamp)


def _wet_edges(density: ops.Float, rng: np.random.Generator, ws: float) -> ops.Float:
    """Ink that ran on wet paper: wash borders pushed around by a smooth random field, bled
    softly outwards, with pigment gathered along the wet edge."""
    h, w = density.shape[:2]
    dist = 2.0 * ws
    dx = ops.noise((h, w), rng, 12.0 * ws) * np.float32(dist)
    dy = ops.noise((h, w), rng, 12.0 * ws) * np.float32(dist)
    xs = np.arange(w, dtype=np.float32)[None, :] + dx
    ys = np.arange(h, dtype=np.float32)[:, None] + dy
    ran = ops.f32(cv2.remap(density, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    bled = np.maximum(ran, ops.blur(ran, 2.5 * ws) * np.float32(0.9))
    rim = np.clip(bled - ops.blur(bled, 3.0 * ws), 0.0, 1.0)
    return ops.f32(np.clip(bled + 0.7 * rim, 0.0, 1.0))


def _brush_strokes(luma: ops.Float, rng: np.random.Generator, ws: float) -> ops.Float:
    """Contour strokes (1 = ink) whose width swells and thins along their length, with dry-brush breaks."""
    source = ops.f32(cv2.ximgproc.guidedFilter(luma, luma, max(2, round(4 * ws)), 0.004))
    contour = ops.f32(1.0 - ops.xdog_lines(source, sigma=1.5 * ws, tau=0.99, epsilon=0.008, phi=25.0))
    size = int(round(4 * ws)) | 1
    thick = ops.f32(cv2.dilate(contour, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))))
    swell = np.clip(0.5 + 0.8 * ops.noise(luma.shape, rng, 18.0 * ws), 0.0, 1.0)
    stroke = ops.mix(contour, thick, ops.f32(swell))
    dry = np.clip(0.9 + 0.8 * ops.noise(luma.shape, rng, 5.0 * ws), 0.0, 1.0)
    return ops.f32(stroke * dry)


def render_chinese_painting(ctx: RenderContext) -> np.ndarray:
    """Ink wash (水墨). Steps (1-3 at working size): 1. grey ink washes in three tones from the
    smoothed lightness, run and bled on wet paper, pigment gathered at the wet edges; 2. lots of
    white rice paper: the washes fade out away from the figure and towards the bottom; 3.
    expressive contour strokes of varying width with dry-brush breaks; 4. full size: the face in
    light washes with fine lines, its structure and features; 5. rice paper texture, red seal."""
    image = ops.auto_level(ops.to_float(ctx.image))
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)
    fw = regions.face_width

    # 1. Washes: density (0 = paper) in three soft tones, run on wet paper.
    small, factor = ops.downscale(image)
    ws = min(small.shape[:2]) / 512.0
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.12, iterations=3)
    luma = ops.luminance(smooth)
    density = ops.curve(ops.f32(1.0 - luma), ops.staircase_lut([0.0, 0.1, 0.38, 0.8], softness=0.1))
    density = _wet_edges(density, ctx.rng, ws)

    # 2. White space: the figure fades out into the paper at the sides and bottom.
    subject = ops.blur(ops.figure_mask(smooth, ops.scale_faces(ctx.faces, factor)), 6.0 * ws)
    rows = np.linspace(0.0, 1.0, small.shape[0], dtype=np.float32)
    keep = ops.f32(subject * np.clip((1.0 - rows) / 0.3, 0.0, 1.0)[:, None])
    keep = ops.f32(0.07 + 0.93 * keep) if ctx.faces else ops.f32(np.maximum(keep, 0.6))

    # 3. Brush contours, only where the figure is.
    strokes = _brush_strokes(luma, ctx.rng, ws) * ops.f32(np.clip(keep * 1.4 - 0.2, 0.0, 1.0))
    density = ops.f32(np.maximum(density * keep, strokes * 0.95))
    density = ops.f32(ops.resize_to(density, image.shape))

    # 4. Face: light washes of its own tones, fine lines, structure and features.
    gray = ops.luminance(image)

    def face_ink(b: ops.Box) -> ops.Float:
        tone = ops.curve(ops.f32(1.0 - ops.blur(gray[b], 0.01 * fw)), FACE_WASH)
        fine = ops.f32(1.0 - ops.xdog_lines(ops.blur(gray[b], 0.012 * fw), sigma=0.9 * s, tau=0.985, phi=40.0))
        return ops.mix(density[b], ops.f32(np.maximum(tone, fine * 0.9)), regions.face[b])

    density = ops.in_box(regions, density, face_ink, inplace=True)
    out = ops.towards(ops.gray3(np.ones_like(density)), INK, density)
    out = ops.keep_face_detail(out, image, regions, 0.7, 0.08 * fw, fine=0.01 * fw, inplace=True)
    out = ops.redraw_features(out, image, regions, 0.7, luma_only=True, inplace=True)

    # 5. Rice paper and the seal.
    paper = ops.paper_texture(out.shape, ctx.rng, grain=0.025, mottle=0.025, fibres=int(100 * s))
    out = ops.times(ops.f32(out * np.array(RICE_PAPER, np.float32)), paper)
    right = bool(ctx.faces) and ctx.faces[0].center[0] > ctx.width / 2.0
    _stamp_seal(out, right, ctx.rng)
    return ops.apply_strength(ctx.image, out, ctx.strength)


def _mineral_palette(palette: ops.Float) -> ops.Float:
    """Each palette colour as the nearest gongbi mineral pigment (jade, azurite, ochre, cinnabar,
    ivory, ink...) by hue and lightness, with a little of its own colour kept, lightened."""
    pigments = np.array(MINERALS, np.float32)
    luma = palette @ np.array(ops.LUMA, np.float32)
    # Compare in a space where chroma counts more than lightness, so hue decides.
    def key(c: np.ndarray) -> np.ndarray:
        y = (c @ np.array(ops.LUMA, np.float32))[:, None]
        return np.concatenate([y, (c - y) * 1.6], axis=1)

    vivid = luma[:, None] + (palette - luma[:, None]) * 1.3
    d = ((key(np.clip(vivid, 0, 1))[:, None, :] - key(pigments)[None, :, :]) ** 2).sum(-1)
    chosen = pigments[d.argmin(1)]
    muted = luma[:, None] + (palette - luma[:, None]) * 0.5
    out = 0.7 * chosen + 0.3 * muted
    return ops.f32(0.15 + 0.85 * out)


def _silk_backdrop(shape: tuple[int, ...], faces: list[Face], rng: np.random.Generator) -> ops.Float:
    """A pale decorative silk ground: warm gradient, a pale moon disc behind the head and faint
    auspicious-cloud curls."""
    h, w = shape[:2]
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    top, bottom = np.array(SILK_TOP, np.float32), np.array(SILK_BOTTOM, np.float32)
    back = ops.f32(np.repeat(top * (1.0 - t) + bottom * t, w, axis=1))
    curls = np.zeros((h, w), np.float32)
    unit = min(h, w) / 9.0
    thick = max(1, round(unit / 22))
    for _ in range(7):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = unit * rng.uniform(0.35, 0.6)
        for k in range(3):
            centre = (round(cx + k * 1.1 * r), round(cy - (k % 2) * 0.35 * r))
            cv2.ellipse(curls, centre, (round(r * (1.0 - 0.2 * k)), round(r * (0.7 - 0.1 * k))), 0, 180, 380,
                        1.0, thick, cv2.LINE_AA)
            cv2.ellipse(curls, centre, (round(r * 0.45), round(r * 0.35)), 0, 200, 420, 1.0, thick, cv2.LINE_AA)
    back = ops.towards(back, JADE_LINE, ops.f32(ops.blur(curls, 0.6) * 0.28))
    if faces:
        face = faces[0]
        (cx, cy), r = face.center, 1.6 * face.width
        moon = ops.radial(shape, (cx + 0.25 * face.width, cy - 0.35 * face.width), r)
        back = ops.towards(back, (0.99, 0.97, 0.92), ops.f32(np.clip(moon * 2.5, 0, 1) * 0.6))
    return back


def render_elegant_chinese(ctx: RenderContext) -> np.ndarray:
    """Gongbi / guofeng (工笔). Steps (1-2 at working size): 1. smooth flat fills in delicate
    mineral colours (a small k-means palette mapped to jade, azurite, pale ochre, muted cinnabar,
    ivory), shaded a little darker towards their outlines as in layered gongbi washes; 2. a pale
    silk ground with a moon disc and faint cloud curls behind the figure; 3. fine, even ink
    outlines; 4. face: pale ivory skin with pink cheeks, crisp structure; 5. silk texture."""
    image = ops.auto_level(ops.to_float(ctx.image))
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)
    fw = regions.face_width

    # 1. Flat mineral fills, darker towards the outlines.
    small, factor = ops.downscale(image)
    ws = min(small.shape[:2]) / 512.0
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.1, iterations=3)
    guide = ops.luminance(smooth)
    smooth = ops.f32(np.clip(cv2.ximgproc.guidedFilter(guide, smooth, max(2, round(5 * ws)), 0.008), 0.0, 1.0))
    palette = ops.kmeans_palette(smooth, 9, ctx.rng)
    fills = ops.blur(ops.nearest_colour(smooth, palette, _mineral_palette(palette)), 0.8 * ws)
    luma = ops.luminance(smooth)
    edges = ops.f32(1.0 - ops.xdog_lines(luma, sigma=1.0 * ws, tau=0.99, epsilon=0.004, phi=40.0))
    fills = ops.times(fills, ops.f32(1.0 - 0.22 * np.minimum(ops.blur(edges, 3.0 * ws) * 2.0, 1.0)))

    # 2. Silk ground behind the figure.
    faces = ops.scale_faces(ctx.faces, factor)
    figure = ops.figure_mask(smooth, faces)
    back = _silk_backdrop(small.shape, faces, ctx.rng)
    out = ops.mix(ops.mix(back, fills, 0.12), fills, figure)
    out = ops.f32(ops.resize_to(out, image.shape))
    figure = ops.f32(ops.resize_to(figure, image.shape))

    # 3. Fine, even outlines: from the flattened image, from the original on the face.
    gray = ops.luminance(image)
    line_gray = ops.f32(ops.resize_to(luma, image.shape))
    line_gray = ops.in_box(regions, line_gray, lambda b: ops.mix(
        line_gray[b], ops.blur(gray[b], 0.012 * fw), regions.face[b]), inplace=True)
    lines = ops.xdog_lines(line_gray, sigma=0.6 * s, tau=0.99, epsilon=0.003, phi=200.0)
    out = ops.ink(out, ops.f32(1.0 - (1.0 - lines) * 0.85 * np.maximum(figure, 0.15)), GONGBI_INK)

    # 4. Face: pale ivory skin with pink cheeks, the original's structure and features.
    def gentle_face(b: ops.Box) -> ops.Float:
        pale = ops.curve(ops.saturate(image[b], 0.5), [(0.0, 0.14), (0.5, 0.66), (1.0, 0.98)])
        pale = ops.towards(pale, IVORY_SKIN, 0.35)
        return ops.mix(out[b], pale, regions.face[b] * 0.8)

    out = ops.in_box(regions, out, gentle_face, inplace=True)
    out = ops.smooth_skin(out, regions, 0.025 * fw, inplace=True)
    out = ops.keep_face_detail(out, image, regions, 0.9, 0.08 * fw, fine=0.02 * fw, inplace=True)
    out = ops.redraw_features(out, ops.mix(out, image, 0.6), regions, 0.5, inplace=True)
    out = _cheeks(out, ctx.faces)

    # 5. Silk.
    paper = ops.paper_texture(out.shape, ctx.rng, grain=0.015, mottle=0.015, fibres=int(60 * s))
    return ops.apply_strength(ctx.image, ops.times(out, paper), ctx.strength)


def _cheeks(image: ops.Float, faces: list[Face]) -> ops.Float:
    """Soft pink on the cheeks, as on gongbi figures."""
    out = image
    for face in faces:
        pts = np.asarray(face.landmarks, np.float32)
        fw = float(np.hypot(*(pts[16] - pts[0])))
        if fw < 16:
            continue
        for corner, eye in ((2, slice(36, 42)), (14, slice(42, 48))):
            c = pts[corner] * 0.5 + pts[eye].mean(axis=0) * 0.5 + np.array([0.0, 0.15 * fw], np.float32)
            r = 0.16 * fw
            left, top = max(0, int(c[0] - r)), max(0, int(c[1] - r))
            right, bottom = min(image.shape[1], int(c[0] + r) + 1), min(image.shape[0], int(c[1] + r) + 1)
            if right <= left or bottom <= top:
                continue
            disc = ops.radial((bottom - top, right - left), (c[0] - left, c[1] - top), r)
            if out is image:
                out = image.copy()
            out[top:bottom, left:right] = ops.towards(out[top:bottom, left:right], CHEEK_PINK, ops.f32(disc * 0.22))
    return out
