"""Battle-hardened general (将军百战): gritty, high-contrast, desaturated bronze and steel, dust."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext

STEEL = (0.22, 0.3, 0.36)
BRONZE = (0.86, 0.64, 0.38)


def _dust(shape: tuple[int, ...], rng: np.random.Generator, scale: float) -> ops.Float:
    """Signed dust layer: specks and a few thin scratches (positive = light, negative = dark)."""
    h, w = shape[:2]
    layer = np.zeros((h, w), np.float32)
    n = int(120 * max(scale, 0.25) ** 2) + 20
    xs, ys = rng.uniform(0, w, n).astype(int), rng.uniform(0, h, n).astype(int)
    radius = rng.uniform(0.5, 2.0, n) * max(scale, 0.5)
    value = rng.choice(np.array([-0.6, 0.7]), n)
    for x, y, r, v in zip(xs, ys, radius, value, strict=True):
        cv2.circle(layer, (int(x), int(y)), max(1, int(round(r))), float(v), -1, cv2.LINE_AA)
    for _ in range(6):
        x0 = float(rng.uniform(0, w))
        x1 = x0 + float(rng.uniform(-0.05, 0.05)) * w
        cv2.line(layer, (int(x0), 0), (int(x1), h), float(rng.uniform(0.2, 0.45)), 1, cv2.LINE_AA)
    return layer


def render_general(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. clarity: strong local contrast at two scales; 2. desaturated bronze/steel grade
    with a hard S-curve; 3. smoky, darker backdrop; 4. grain, dust and scratches; 5. dramatic
    vignette."""
    image = ops.auto_level(ops.to_float(ctx.image))
    s = ctx.scale

    # 1. Clarity at two scales (the coarse one computed at working size).
    out = ops.local_contrast(image, 2.0 * s, 0.6)
    small, _ = ops.downscale(image)
    ws = min(small.shape[:2]) / 512.0
    luma = ops.luminance(small)
    coarse = ops.f32(ops.resize_to(luma - ops.blur(luma, 12.0 * ws), image.shape))
    out = ops.plus(out, coarse * np.float32(1.1))

    # 2. Grade.
    out = ops.saturate(out, 0.35)
    out = ops.split_tone(out, STEEL, BRONZE, 0.85)
    out = ops.curve(out, [(0.0, 0.0), (0.2, 0.1), (0.5, 0.5), (0.8, 0.88), (1.0, 0.97)])

    # 3. Smoke in the backdrop.
    subject = ops.subject_mask(out.shape, ctx.faces)
    smoke = ops.noise(out.shape, ctx.rng, 60.0 * s) + 0.5 * ops.noise(out.shape, ctx.rng, 15.0 * s)
    out = ops.times(out, ops.f32(1.0 + (smoke * 0.18 - 0.25) * (1.0 - subject)))

    # 4. Grain, dust and scratches.
    grain = ops.noise(out.shape, ctx.rng, 1.2 * max(s, 1.0)) * np.float32(0.045)
    out = ops.plus(out, grain + ops.blur(_dust(out.shape, ctx.rng, s), 0.6 * s) * (1.0 - 0.8 * subject))

    # 5. Vignette.
    out = ops.times(out, ops.vignette(out.shape, 0.7, radius=0.35, softness=0.65))
    return ops.apply_strength(ctx.image, out, ctx.strength)
