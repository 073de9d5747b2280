"""Chinese styles: ink painting (国画古风) and elegant gongbi-like style (清雅国风)."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext

RICE_PAPER = (0.95, 0.92, 0.84)
INK = (0.09, 0.08, 0.08)
OCHRE, INDIGO = (0.86, 0.68, 0.44), (0.28, 0.34, 0.48)
SEAL_RED = (0.72, 0.12, 0.1)
CELADON_PAPER = (0.90, 0.93, 0.88)
JADE_SHADOW, IVORY = (0.18, 0.3, 0.28), (0.96, 0.94, 0.86)
GONGBI_INK = (0.22, 0.17, 0.14)
FACE_INK_TONE = [(0.0, 0.3), (0.5, 0.7), (1.0, 0.98)]


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


def render_chinese_painting(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. at working size, light grey ink washes (a few soft tones, pooled and bled) with
    a faint ochre and indigo colour, fading into white paper away from the figure; 2. face: the
    original's own lightened tones; 3. ink lines of varying weight with dry-brush breaks, fading
    with the figure; 4. face structure and features; 5. rice paper texture and a red seal."""
    image = ops.auto_level(ops.to_float(ctx.image))
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)
    fw = regions.face_width

    # 1. Ink washes: light tones, uneven pooling, soft bled edges; faint colour; white space.
    small, factor = ops.downscale(image)
    ws = min(small.shape[:2]) / 512.0
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.12, iterations=3)
    luma = ops.luminance(smooth)
    wash = ops.curve(luma, ops.staircase_lut([0.24, 0.55, 0.82, 0.97], softness=0.12))
    pooling = ops.noise(wash.shape, ctx.rng, 40.0) * np.float32(0.18) + np.float32(1.0)
    wash = ops.blur(ops.f32(1.0 - (1.0 - wash) * pooling), 1.5)
    tint = ops.split_tone(ops.saturate(smooth, 0.5), INDIGO, OCHRE, 1.0)
    colour = ops.mix(ops.gray3(wash), ops.times(tint, wash * np.float32(1.12)), 0.35)
    # The figure fades out into the paper at the sides and bottom.
    subject = ops.subject_mask(small.shape, ops.scale_faces(ctx.faces, factor), feather=0.5)
    rows = np.linspace(0.0, 1.0, small.shape[0], dtype=np.float32)
    keep = ops.f32(np.clip(subject * 1.2, 0.0, 1.0) * np.clip((1.0 - rows) / 0.22, 0.0, 1.0)[:, None])
    colour = ops.towards(colour, RICE_PAPER, ops.f32(1.0 - keep))
    colour = ops.f32(ops.resize_to(colour, image.shape))
    keep = np.maximum(ops.f32(ops.resize_to(keep, image.shape)), regions.face)

    # 2. The face keeps its own (lightened) tones instead of the coarse wash steps.
    gray = ops.luminance(image)
    colour = ops.in_box(regions, colour, lambda b: ops.mix(
        colour[b], ops.gray3(ops.curve(gray[b], FACE_INK_TONE)), regions.face[b] * 0.85), inplace=True)

    # 3. Ink lines with varying weight and dry-brush breaks, only where the figure is. Bold contour
    # strokes come from the working-size image: they are wide anyway, and kept off the face.
    bold = ops.thicken(ops.xdog_lines(luma, sigma=2.2 * ws, tau=0.99, phi=25.0), int(round(2 * ws)) + 1)
    bold = ops.f32(1.0 - ops.resize_to(bold, image.shape)) * (1.0 - regions.face)
    line_gray = ops.f32(ops.resize_to(luma, image.shape))
    line_gray = ops.in_box(regions, line_gray, lambda b: ops.mix(
        line_gray[b], ops.blur(gray[b], 0.012 * fw), regions.face[b]), inplace=True)
    fine = ops.xdog_lines(line_gray, sigma=0.9 * s, tau=0.985, phi=40.0)
    breaks = np.clip(0.55 + 0.6 * ops.noise(image.shape, ctx.rng, 6.0 * s), 0.0, 1.0)
    ink = np.maximum(1.0 - fine, bold * breaks) * keep
    out = ops.ink(colour, ops.f32(1.0 - ink), INK)

    # 4. Face structure and crisp features (lightness only: the ink stays grey).
    out = ops.keep_face_detail(out, image, regions, 0.6, 0.08 * fw, fine=0.01 * fw, inplace=True)
    out = ops.redraw_features(out, image, regions, 0.7, luma_only=True, inplace=True)

    # 5. Rice paper texture and the seal.
    out = ops.times(out, ops.paper_texture(out.shape, ctx.rng, grain=0.025, mottle=0.03, fibres=int(100 * s)))
    right = bool(ctx.faces) and ctx.faces[0].center[0] > ctx.width / 2.0
    _stamp_seal(out, right, ctx.rng)
    return ops.apply_strength(ctx.image, out, ctx.strength)


def _jade_palette(palette: ops.Float) -> ops.Float:
    """Palette colours mapped by lightness onto ink, jade, celadon and ivory, keeping a little hue."""
    luma = palette @ np.array(ops.LUMA, np.float32)
    stops = np.array([0.0, 0.35, 0.7, 1.0], np.float32)
    cols = np.array([JADE_SHADOW, (0.36, 0.52, 0.47), (0.72, 0.82, 0.74), IVORY], np.float32)
    mapped = np.stack([np.interp(luma, stops, cols[:, i]) for i in range(3)], axis=1).astype(np.float32)
    # Warm (skin-like) colours keep more of their own hue so skin does not turn green.
    keep = 0.3 + 0.4 * np.clip((palette[:, 0] - palette[:, 2]) * 4.0, 0.0, 1.0)[:, None]
    muted = luma[:, None] + (palette - luma[:, None]) * 0.6
    return ops.f32(mapped * (1.0 - keep) + muted * keep)


def render_elegant_chinese(ctx: RenderContext) -> np.ndarray:
    """Steps (1-2 at working size): 1. flat layered colour: a small k-means palette recoloured
    to ink, jade, celadon and ivory; 2. celadon backdrop, a pale moon disc behind the head,
    faint glow; 3. fine, even gongbi ink lines; 4. face: gentle natural colour, crisp
    structure; 5. soft paper texture."""
    image = ops.auto_level(ops.to_float(ctx.image))
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)
    fw = regions.face_width

    # 1. Flat jade colour fields with slightly soft edges and a hint of shading.
    small, factor = ops.downscale(image)
    ws = min(small.shape[:2]) / 512.0
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.1, iterations=3)
    palette = ops.kmeans_palette(smooth, 8, ctx.rng)
    out = ops.blur(ops.nearest_colour(smooth, palette, _jade_palette(palette)), 1.0)
    luma = ops.luminance(smooth)
    out = ops.plus(out, (luma - ops.blur(luma, 6.0 * ws)) * np.float32(0.6))

    # 2. Celadon backdrop, moon and glow.
    faces = ops.scale_faces(ctx.faces, factor)
    subject = ops.subject_mask(out.shape, faces, feather=0.4)
    out = ops.mix(ops.towards(out, CELADON_PAPER, 0.55), out, subject)
    if faces:
        face = faces[0]
        (cx, cy), r = face.center, 1.5 * face.width
        moon = ops.radial(out.shape, (cx + 0.2 * face.width, cy - 0.4 * face.width), r)
        moon = ops.f32(np.clip(moon * 1.8, 0, 1) * 0.55 * (1.0 - subject))
        out = ops.towards(out, (0.98, 0.97, 0.92), moon)
    out = ops.f32(ops.resize_to(ops.bloom(out, 0.7, 20.0 * ws, 0.3), image.shape))

    # 3. Fine, even ink lines: from the smoothed image, from the original on the face.
    gray = ops.luminance(image)
    line_gray = ops.f32(ops.resize_to(luma, image.shape))
    line_gray = ops.in_box(regions, line_gray, lambda b: ops.mix(
        line_gray[b], ops.blur(gray[b], 0.01 * fw), regions.face[b]), inplace=True)
    lines = ops.xdog_lines(line_gray, sigma=0.7 * s, tau=0.985, phi=60.0)
    out = ops.ink(out, ops.f32(1.0 - (1.0 - lines) * 0.85), GONGBI_INK)

    # 4. Face: gentle natural colour, smooth skin, the original's structure and features.
    def gentle_face(b: ops.Box) -> ops.Float:
        gentle = ops.curve(ops.split_tone(ops.saturate(image[b], 0.6), JADE_SHADOW, IVORY, 0.5),
                           [(0.0, 0.12), (0.5, 0.6), (1.0, 0.97)])
        face = ops.mix(out[b], gentle, regions.face[b] * 0.5)
        return ops.mix(face, gentle, regions.features[b] * 0.6)

    out = ops.in_box(regions, out, gentle_face, inplace=True)
    out = ops.smooth_skin(out, regions, 0.02 * fw, inplace=True)
    out = ops.keep_face_detail(out, image, regions, 0.8, 0.08 * fw, fine=0.02 * fw, inplace=True)

    # 5. Paper.
    paper = ops.paper_texture(out.shape, ctx.rng, grain=0.02, mottle=0.02, fibres=int(120 * s))
    return ops.apply_strength(ctx.image, ops.times(out, paper), ctx.strength)
