"""Retro comic (复古漫画): bold ink outlines, halftone dots, an aged-print palette on cream paper."""

from __future__ import annotations

import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext

PAPER = (0.96, 0.91, 0.78)
INK = (0.16, 0.11, 0.10)
FACE_TONE = [(0.0, 0.1), (0.5, 0.5), (1.0, 0.97)]
# Faded process colours of an old print: the k-means palette is pulled towards the nearest one.
PRINT_COLOURS = np.array([
    PAPER, (0.84, 0.34, 0.25), (0.27, 0.42, 0.60), (0.92, 0.76, 0.38), (0.91, 0.70, 0.57), INK,
    (0.62, 0.66, 0.66),
], np.float32)


def _aged_palette(palette: ops.Float, pull: float) -> ops.Float:
    """Each palette colour faded a little and pulled towards its nearest print colour."""
    d = ((palette[:, None, :] - PRINT_COLOURS[None, :, :]) ** 2).sum(-1)
    target = PRINT_COLOURS[d.argmin(1)]
    luma = palette @ np.array(ops.LUMA, np.float32)
    faded = luma[:, None] + (palette - luma[:, None]) * 0.8
    return ops.f32(faded + (target - faded) * pull)


def render_retro_comic(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. flatten and quantize at working size; 2. face: graded shading with the original's
    structure; 3. halftone the shadows; 4. ink lines at full size; 5. crisp features; 6. paper."""
    image = ops.auto_level(ops.to_float(ctx.image))
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)

    # 1. Flat aged colours.
    small, _ = ops.downscale(image)
    flat = ops.edge_preserving_smooth(small, 2.0, 0.12, iterations=3)
    palette = ops.kmeans_palette(flat, 7, ctx.rng)
    flat = ops.nearest_colour(flat, _aged_palette(palette, 0.45))
    colour = ops.f32(ops.resize_to(flat, image.shape))

    # 2. Inside the face, smooth graded shading instead of posterized patches.
    def graded_face(b: ops.Box) -> ops.Float:
        graded = ops.curve(ops.saturate(image[b], 0.75), FACE_TONE)
        return ops.mix(colour[b], graded, regions.face[b] * 0.7)

    colour = ops.in_box(regions, colour, graded_face, inplace=True)
    fw = regions.face_width
    colour = ops.keep_face_detail(colour, image, regions, 0.8, 0.06 * fw, fine=0.008 * fw, inplace=True)

    # 3. Halftone screen where the print is in midtone or shadow, lighter on the face.
    luma = ops.luminance(colour)
    darkness = np.clip((0.85 - ops.blur(luma, 1.0 * s)) * np.float32(0.8), 0.0, 0.55)
    if regions.any:
        darkness *= 1.0 - 0.8 * regions.face
    dots = ops.halftone(darkness, cell=max(4.0, 7.0 * s), angle=45.0)

    # 4. Bold outlines from the original's luminance, thinner on the face.
    gray = ops.soften_face(ops.luminance(image), regions, 0.015 * fw)
    lines = ops.xdog_lines(gray, sigma=1.2 * s, tau=0.985, phi=40.0)
    lines = ops.thicken(lines, int(round(2 * s)) + 1)
    if regions.any:
        lines = np.maximum(lines, 0.5 * regions.face)
    out = ops.ink(colour, ops.f32(lines * (1.0 - 0.5 * dots)), INK)

    # 5. Crisp eyes, brows and lips.
    out = ops.redraw_features(out, image, regions, 0.56, luma_only=True, inplace=True)

    # 6. Cream paper and grain.
    paper = ops.paper_texture(out.shape, ctx.rng, grain=0.05, mottle=0.04)
    out = ops.affine(ops.times(out, paper), tuple(c / 0.96 for c in PAPER))
    return ops.apply_strength(ctx.image, out, ctx.strength)
