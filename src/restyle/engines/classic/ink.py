"""Chinese styles: ink painting (国画古风); the elegant gongbi style (清雅国风) lives in :mod:`.gongbi`."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext
from restyle.engines.classic.gongbi import render_gongbi as render_elegant_chinese

FACE_FLOOR = 0.05  # share of the face-specific treatment kept at detail 0 (the identity guard raises it)

RICE_PAPER = (0.97, 0.955, 0.92)
INK = (0.09, 0.08, 0.08)
OCHRE, INDIGO = (0.86, 0.68, 0.44), (0.28, 0.34, 0.48)
SEAL_RED = (0.72, 0.12, 0.1)
FACE_STEPS = ops.staircase_lut([0.0, 0.1, 0.32, 0.7], softness=0.08)  # stepped washes on the face
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
    face_keep = ctx.face_keep(FACE_FLOOR)
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
        # washes laid in steps like the body's; the smooth tones return as the guard raises detail
        darkness = ops.f32(1.0 - ops.blur(gray[b], 0.01 * fw))
        tone = ops.mix(ops.curve(darkness, FACE_STEPS), ops.curve(darkness, FACE_WASH), face_keep)
        fine = ops.f32(1.0 - ops.xdog_lines(ops.blur(gray[b], 0.012 * fw), sigma=0.9 * s, tau=0.985, phi=40.0))
        return ops.mix(density[b], ops.f32(np.maximum(tone, fine * 0.9)), regions.face[b])

    density = ops.in_box(regions, density, face_ink, inplace=True)
    out = ops.towards(ops.gray3(np.ones_like(density)), INK, density)
    # brush contours of the eyes, nose and mouth, drawn from the landmarks
    out = ops.draw_features(out, ctx.faces, INK, opacity=0.7, parts=("eyelids", "nose", "mouth"), weight=0.7)
    out = ops.keep_face_detail(out, image, regions, 0.7 * face_keep, 0.08 * fw, fine=0.01 * fw, inplace=True)
    out = ops.redraw_features(out, image, regions, 0.7 * face_keep, luma_only=True, inplace=True)

    # 5. Rice paper and the seal.
    paper = ops.paper_texture(out.shape, ctx.rng, grain=0.025, mottle=0.025, fibres=int(100 * s))
    out = ops.times(ops.f32(out * np.array(RICE_PAPER, np.float32)), paper)
    right = bool(ctx.faces) and ctx.faces[0].center[0] > ctx.width / 2.0
    _stamp_seal(out, right, ctx.rng)
    return ops.apply_strength(ctx.image, out, ctx.strength)


__all__ = ["render_chinese_painting", "render_elegant_chinese"]


render_chinese_painting.honours_detail = True  # type: ignore[attr-defined]
