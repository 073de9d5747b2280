"""Fresh (小清新): airy pastel film look, lifted blacks, low contrast, cool green-cyan tint, soft glow."""

from __future__ import annotations

import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext

FACE_FLOOR = 0.0  # share of the face-specific treatment kept at detail 0 (the identity guard raises it)

# Lifted blacks, gentle shoulder: a faded film curve per channel (R, G, B).
FILM = [
    [(0.0, 0.20), (0.5, 0.62), (1.0, 0.96)],
    [(0.0, 0.25), (0.5, 0.66), (1.0, 0.98)],
    [(0.0, 0.27), (0.5, 0.66), (1.0, 0.97)],
]


def render_fresh(ctx: RenderContext) -> np.ndarray:
    """Steps (1-3 at working size): 1. light smoothing; 2. pastel grade: less saturation, faded
    film curve with lifted blacks, cool tint in the shadows, warm cream highlights; 3. soft glow
    and airy haze away from the subject; 4. full size: the face keeps its shapes, skin stays
    soft; 5. fine film grain."""
    image = ops.auto_level(ops.to_float(ctx.image))
    keep = ctx.face_keep(FACE_FLOOR)
    regions = ops.face_regions(ctx.image, ctx.faces)
    fw = regions.face_width
    small, factor = ops.downscale(image)
    ws = min(small.shape[:2]) / 512.0

    # 1-2. Light smoothing and the pastel film grade.
    out = ops.saturate(ops.edge_preserving_smooth(small, 2.0, 0.08, iterations=2), 0.7)
    lut = np.stack([ops.tone_lut(c) for c in FILM], axis=1)
    out = ops.to_float(ops.apply_lut(ops.to_uint8(out), lut))
    out = ops.split_tone(out, (0.35, 0.62, 0.6), (1.0, 0.95, 0.85), 0.5)

    # 3. Glow and airy light: brighter, hazier away from the subject.
    out = ops.bloom(out, 0.55, 28.0 * ws, 0.5)
    subject = ops.subject_mask(out.shape, ops.scale_faces(ctx.faces, factor))
    out = ops.towards(out, (0.97, 0.99, 0.97), ops.f32((1.0 - subject) * 0.35))
    out = ops.f32(ops.resize_to(out, image.shape))

    # 4. The face keeps its shapes; skin stays soft.
    out = ops.smooth_skin(out, regions, 0.015 * fw, 0.7, inplace=True)
    out = ops.keep_face_detail(out, image, regions, 0.6 * keep, 0.08 * fw, fine=0.01 * fw, inplace=True)

    # 5. Fine grain.
    out = ops.plus(out, ops.noise(out.shape, ctx.rng, 1.5) * np.float32(0.025))
    return ops.apply_strength(ctx.image, out, ctx.strength)


render_fresh.honours_detail = True  # type: ignore[attr-defined]
