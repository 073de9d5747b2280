"""Cartoon styles: 3D fairy tale (3D童话) and colourful cartoon (炫彩卡通)."""

from __future__ import annotations

import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext

WARM_SHADOW = (0.42, 0.30, 0.55)
WARM_LIGHT = (1.0, 0.86, 0.62)
OUTLINE = (0.10, 0.07, 0.12)


def render_fairy_tale_3d(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. strong edge-preserving smoothing at low resolution (plastic, rounded surfaces);
    2. volume: boost large-scale shading, warm saturated grade; 3. soft-focus background;
    4. face: keep structure, crisp brighter and slightly bigger eyes; 5. specular glints, rim
    light, bloom and a gentle vignette."""
    image = ops.to_float(ctx.image)
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)

    # 1. Smooth twice: at working size, then at half of it for broad plastic surfaces.
    small, _ = ops.downscale(image)
    smooth_small = ops.edge_preserving_smooth(small, 2.0, 0.10, iterations=2)
    tiny, _ = ops.downscale(smooth_small, 256)
    tiny = ops.edge_preserving_smooth(tiny, 2.0, 0.12, iterations=3)
    smooth = ops.f32(ops.resize_to(ops.mix(smooth_small, ops.f32(ops.resize_to(tiny, small.shape)), 0.7),
                                   image.shape))

    # 2. Volume and warm colour.
    out = ops.local_contrast(smooth, 30.0 * s, 0.7)
    out = ops.saturate(out, 1.45)
    out = ops.split_tone(out, WARM_SHADOW, WARM_LIGHT, 0.6)
    out = ops.curve(out, [(0.0, 0.05), (0.25, 0.22), (0.6, 0.7), (1.0, 1.0)])

    # 3. Depth of field: the background goes soft.
    subject = ops.subject_mask(out.shape, ctx.faces)
    out = ops.mix(ops.blur(out, 8.0 * s), out, subject)

    # 4. The face keeps its structure; eyes get local contrast and a small enlargement.
    out = ops.keep_face_detail(out, image, regions, 0.8, 8.0 * s, fine=3.0 * s)
    out = ops.redraw_features(out, ops.local_contrast(ops.mix(out, image, 0.5), 3.0 * s, 1.0), regions, 0.9)
    out = ops.magnify_eyes(out, ctx.faces, 0.15)

    # 5. Light: specular glints on the brightest smooth surfaces, warm rim light, bloom, vignette.
    luma = ops.f32(ops.resize_to(ops.blur(ops.luminance(tiny), 1.5), image.shape))
    spec = np.clip((luma - 0.7) * np.float32(4.0), 0.0, 1.0) ** 2
    out = ops.towards(out, (1.0, 0.97, 0.92), ops.f32(spec * 0.5))
    sheen = ops.f32(ops.resize_to(ops.relief(ops.luminance(tiny), 4.0), image.shape))
    out = ops.plus(out, np.clip(sheen, -0.3, 0.3) * (0.3 * (1.0 - regions.face)))
    rim = np.clip(subject - ops.blur(subject, 12.0 * s) * 1.1, 0.0, 1.0) * np.float32(2.0)
    out = ops.screen(out, ops.affine(ops.gray3(np.minimum(rim, 1.0)), tuple(0.7 * c for c in WARM_LIGHT)))
    out = ops.bloom(out, 0.6, 30.0 * s, 0.55)
    out = ops.times(out, ops.vignette(out.shape, 0.35))
    return ops.apply_strength(ctx.image, out, ctx.strength)


def render_colorful_cartoon(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. smooth and quantize to a vivid k-means palette at working size; 2. face: more
    tones and the original's structure; 3. two-step shading; 4. thick outlines; 5. features."""
    image = ops.to_float(ctx.image)
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)

    # 1. Flat vivid colours.
    small, _ = ops.downscale(image)
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.12, iterations=3)
    _, palette = ops.quantize_palette(smooth, 10, ctx.rng)
    vivid = ops.adjust_hsv(palette.reshape(1, -1, 3), saturation=1.7, value=1.12).reshape(-1, 3)
    colour = ops.f32(ops.resize_to(ops.nearest_colour(smooth, palette, vivid), image.shape))
    smooth_full = ops.f32(ops.resize_to(ops.saturate(smooth, 1.5), image.shape))

    # 2. The face: smooth shading with the original's structure instead of palette patches.
    colour = ops.in_box(regions, colour, lambda b: ops.mix(colour[b], smooth_full[b], regions.face[b] * 0.75))
    colour = ops.keep_face_detail(colour, image, regions, 0.6, 3.0 * s)

    # 3. Simple two-step shading from the smoothed light.
    luma = ops.luminance(smooth_full)
    shade = np.where(luma < 0.35, np.float32(0.78), np.float32(1.0)).astype(np.float32)
    shade = ops.blur(shade, 1.0 * s)
    colour = ops.times(colour, shade)

    # 4. Thick outlines from the original, cleaner on the face.
    gray = ops.soften_face(ops.luminance(image), regions, 2.0 * s)
    lines = ops.xdog_lines(gray, sigma=1.4 * s, tau=0.98, phi=30.0)
    lines = ops.thicken(lines, int(round(3 * s)) + 1)
    out = ops.ink(colour, lines, OUTLINE)

    # 5. Crisp features.
    out = ops.redraw_features(out, ops.mix(out, image, 0.6), regions, 0.8, luma_only=True)
    out = ops.draw_features(out, ctx.faces, OUTLINE, 0.8, ("eyelids", "brows"))
    return ops.apply_strength(ctx.image, out, ctx.strength)
