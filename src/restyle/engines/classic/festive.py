"""Chinese New Year (喜迎新年): festive red and gold, warm glow, sparkles, lanterns and a paper-cut frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext

RED_GRADIENT = [(0.0, (0.25, 0.0, 0.02)), (0.4, (0.72, 0.06, 0.06)), (0.75, (0.95, 0.45, 0.15)),
                (1.0, (1.0, 0.88, 0.55))]
RED = (0.78, 0.06, 0.07)
GOLD = (1.0, 0.8, 0.3)


def _diamond(x: int, y: int, d: int) -> np.ndarray:
    return np.array([[x, y - d], [x + d, y], [x, y + d], [x - d, y]], np.int32)


def _decorations(shape: tuple[int, ...], keep_clear: tuple[float, float, float, float] | None,
                 rng: np.random.Generator) -> tuple[ops.Float, ops.Float, ops.Float]:
    """Paper-cut frame, corner fans, lanterns and sparkles: (colour layer, its alpha, sparkle mask).

    Shapes are painted in order on one layer, so later ones cover earlier ones.
    """
    h, w = shape[:2]
    unit = min(h, w)
    red, gold = tuple(int(255 * c) for c in RED), tuple(int(255 * c) for c in GOLD)
    layer = np.zeros((h, w, 3), np.uint8)
    alpha = np.zeros((h, w), np.uint8)

    def paint(fn: Callable[[np.ndarray, Any], None], colour: tuple[int, ...]) -> None:
        fn(layer, colour)
        fn(alpha, 255)

    band = max(4, int(0.045 * unit))
    thin = max(1, band // 8)
    # 1. Frame: red band, scalloped inner edge, gold rule and a row of gold diamonds.
    paint(lambda im, c: cv2.rectangle(im, (0, 0), (w - 1, h - 1), c, 2 * band), red)
    step = max(8, int(band * 1.6))
    for x in range(step // 2, w, step):
        for y in (band, h - 1 - band):
            paint(lambda im, c, x=x, y=y: cv2.circle(im, (x, y), step // 3, c, -1, cv2.LINE_AA), red)
    for y in range(step // 2, h, step):
        for x in (band, w - 1 - band):
            paint(lambda im, c, x=x, y=y: cv2.circle(im, (x, y), step // 3, c, -1, cv2.LINE_AA), red)
    rule = band // 2
    paint(lambda im, c: cv2.rectangle(im, (rule, rule), (w - 1 - rule, h - 1 - rule), c, thin, cv2.LINE_AA), gold)
    d = max(2, band // 4)
    for x in range(step // 2, w, step):
        for y in (band // 4, h - 1 - band // 4):
            paint(lambda im, c, x=x, y=y: cv2.fillPoly(im, [_diamond(x, y, d)], c, cv2.LINE_AA), gold)
    # 2. Paper-cut corner fans: alternating red and gold quarter rings.
    r0 = int(0.17 * unit)
    for cx, cy, a0 in ((0, 0, 0), (w - 1, 0, 90), (w - 1, h - 1, 180), (0, h - 1, 270)):
        for k, r in enumerate(range(r0, band, -max(3, r0 // 6))):
            colour = red if k % 2 == 0 else gold
            paint(lambda im, c, cx=cx, cy=cy, a0=a0, r=r: cv2.ellipse(
                im, (cx, cy), (r, r), 0, a0, a0 + 90, c, -1, cv2.LINE_AA), colour)
    # 3. Lanterns hanging in the top corners.
    rx, ry = max(4, int(0.06 * unit)), max(3, int(0.05 * unit))
    for lx in (int(0.2 * w), int(0.8 * w)):
        ly = int(0.22 * unit)
        paint(lambda im, c, lx=lx, ly=ly: cv2.line(im, (lx, 0), (lx, ly), c, thin, cv2.LINE_AA), gold)
        paint(lambda im, c, lx=lx, ly=ly: cv2.ellipse(im, (lx, ly), (rx, ry), 0, 0, 360, c, -1, cv2.LINE_AA), red)
        for off in (rx // 2, rx // 5):
            paint(lambda im, c, lx=lx, ly=ly, off=off: cv2.ellipse(
                im, (lx, ly), (off, ry), 0, 0, 360, c, thin, cv2.LINE_AA), gold)
        for y0, y1 in ((ly - ry - ry // 4, ly - ry + ry // 6), (ly + ry - ry // 6, ly + ry + ry // 4)):
            paint(lambda im, c, lx=lx, y0=y0, y1=y1: cv2.rectangle(
                im, (lx - rx // 3, y0), (lx + rx // 3, y1), c, -1), gold)
        paint(lambda im, c, lx=lx, ly=ly: cv2.line(
            im, (lx, ly + ry), (lx, ly + 2 * ry), c, 2 * thin, cv2.LINE_AA), gold)
    # 4. Sparkles: small four-point stars, kept off the face.
    sparkle = np.zeros((h, w), np.uint8)
    count = 70
    xs, ys = rng.uniform(0, w, count), rng.uniform(0, h, count)
    sizes = rng.uniform(0.006, 0.02, count) * unit
    for x, y, size in zip(xs, ys, sizes, strict=True):
        if keep_clear is not None:
            left, top, right, bottom = keep_clear
            if left <= x <= right and top <= y <= bottom:
                continue
        r, px, py = max(2, int(size)), int(x), int(y)
        cv2.line(sparkle, (px - r, py), (px + r, py), 255, 1, cv2.LINE_AA)
        cv2.line(sparkle, (px, py - r), (px, py + r), 255, 1, cv2.LINE_AA)
        cv2.circle(sparkle, (px, py), max(1, r // 4), 255, -1, cv2.LINE_AA)
    return ops.to_float(layer), ops.to_float(alpha), ops.to_float(sparkle)


def render_new_year(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. backdrop recoloured to a red-to-gold gradient; 2. subject warmed, skin kept
    natural; 3. warm golden glow; 4. paper-cut frame, lanterns, gold trim and sparkles."""
    image = ops.to_float(ctx.image)
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)

    # 1. Red and gold backdrop.
    small, _ = ops.downscale(image)
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.1, iterations=1)
    festive = ops.f32(ops.resize_to(ops.gradient_map(ops.luminance(smooth), RED_GRADIENT), image.shape))
    subject = ops.subject_mask(image.shape, ctx.faces)
    base = ops.f32(ops.resize_to(smooth, image.shape))
    base = ops.in_box(regions, base, lambda b: ops.mix(base[b], image[b], regions.face[b]))
    warm = ops.split_tone(ops.saturate(base, 1.2), (0.55, 0.06, 0.06), (1.0, 0.85, 0.5), 0.75)
    out = ops.mix(festive, warm, ops.f32(np.clip(subject * 0.8, 0.0, 1.0)))

    # 2. Skin stays natural-ish.
    out = ops.in_box(regions, out, lambda b: ops.mix(out[b], ops.mix(image[b], warm[b], 0.5), regions.face[b]))

    # 3. Golden glow.
    out = ops.bloom(out, 0.5, 30.0 * s, 0.5)
    out = ops.split_tone(out, (0.5, 0.1, 0.05), (1.0, 0.9, 0.6), 0.2)

    # 4. Decorations.
    fb = None
    if ctx.faces:
        f = ctx.faces[0]
        fb = (f.box[0] - 0.5 * f.width, f.box[1] - 0.6 * f.height, f.box[2] + 0.5 * f.width, f.box[3] + 0.4 * f.height)
    layer, alpha, sparkle = _decorations(out.shape, fb, ctx.rng)
    out = ops.mix(out, layer, alpha)
    glitter = ops.blur(sparkle, 2.0 * s) * np.float32(2.0) + sparkle
    out = ops.screen(out, ops.affine(ops.gray3(np.minimum(glitter, 1.0)), GOLD))
    return ops.apply_strength(ctx.image, out, ctx.strength)
