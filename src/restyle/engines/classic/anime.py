"""Anime (二次元): clean thin line art, flat cel shading, bright colours, crisp eyes and brows."""

from __future__ import annotations

import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext

LINE = (0.14, 0.09, 0.12)
CEL_LEVELS = (0.16, 0.42, 0.68, 0.86, 0.98)
FACE_TONE = [(0.0, 0.04), (0.3, 0.36), (0.7, 0.78), (1.0, 0.98)]


def render_anime(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. smooth at working size; 2. cel shading (flat lightness steps, brighter and more
    saturated colour); 3. face: smooth skin with few tones but the original's structure;
    4. thin XDoG line art; 5. crisp eyes, brows and lips redrawn along the landmarks."""
    image = ops.auto_level(ops.to_float(ctx.image))
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)
    fw = regions.face_width

    # 1-2. Smooth, then flat cel tones.
    small, _ = ops.downscale(image)
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.10, iterations=3)
    bright = ops.curve(smooth, [(0.0, 0.04), (0.3, 0.4), (0.7, 0.82), (1.0, 1.0)])
    cel = ops.cel_shade(bright, CEL_LEVELS, softness=0.03, chroma=1.45)
    colour = ops.f32(ops.resize_to(cel, image.shape))

    # 3. Face: smooth skin, softer tone steps, structure from the original.
    colour = ops.in_box(regions, colour, lambda b: ops.mix(
        colour[b], ops.curve(ops.saturate(image[b], 1.3), FACE_TONE), regions.face[b] * 0.7), inplace=True)
    colour = ops.smooth_skin(colour, regions, 0.02 * fw, inplace=True)
    colour = ops.keep_face_detail(colour, image, regions, 0.7, 0.08 * fw, fine=0.015 * fw, inplace=True)

    # 4. Thin line art: from the smoothed image, and from the original (softened) on the face.
    gray = ops.f32(ops.resize_to(ops.luminance(smooth), image.shape))
    face_gray = ops.soften_face(ops.luminance(image), regions, 0.02 * fw)
    gray = ops.in_box(regions, gray, lambda b: ops.mix(gray[b], face_gray[b], regions.face[b]), inplace=True)
    lines = ops.xdog_lines(gray, sigma=0.8 * s, tau=0.985, phi=50.0)
    out = ops.ink(colour, lines, LINE)

    # 5. Crisp features: the original's eyes, brows and lips, then inked lids and brows.
    out = ops.redraw_features(out, image, regions, 0.55, luma_only=True, inplace=True)
    out = ops.draw_features(out, ctx.faces, LINE, 0.75, ("eyelids", "mouth"), weight=0.7)
    out = ops.draw_features(out, ctx.faces, LINE, 0.35, ("brows",), weight=0.6)
    return ops.apply_strength(ctx.image, out, ctx.strength)
