"""Chinese New Year (喜迎新年): festive red and gold, warm glow, sparkles, lanterns and a paper-cut frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext

PRINT_TONES = (0.12, 0.42, 0.7, 0.93)  # flat lightness steps of the printed figure
FACE_TONES = (0.2, 0.5, 0.75, 0.95)  # finer steps on the face
PRINT_INK = (0.3, 0.05, 0.04)  # deep red-brown ink
FACE_FLOOR = 0.0  # share of the face-specific treatment kept at detail 0 (the identity guard raises it)

RED_GRADIENT = [(0.0, (0.25, 0.0, 0.02)), (0.4, (0.72, 0.06, 0.06)), (0.75, (0.95, 0.45, 0.15)),
                (1.0, (1.0, 0.88, 0.55))]
RED = (0.78, 0.06, 0.07)
GOLD = (1.0, 0.8, 0.3)
LANTERN = (0.95, 0.16, 0.1)
Rect = tuple[float, float, float, float]  # left, top, right, bottom


def _diamond(x: int, y: int, d: int) -> np.ndarray:
    return np.array([[x, y - d], [x + d, y], [x, y + d], [x - d, y]], np.int32)


def _overlaps(box: Rect, others: list[Rect]) -> bool:
    return any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3] for o in others)


def _decorations(shape: tuple[int, ...], keep_clear: list[Rect],
                 rng: np.random.Generator) -> tuple[ops.Float, ops.Float, ops.Float]:
    """Paper-cut frame, corner fans, lanterns and sparkles: (colour layer, its alpha, sparkle mask).

    Shapes are painted in order on one layer, so later ones cover earlier ones; lanterns and
    sparkles stay out of the ``keep_clear`` rectangles (the faces).
    """
    h, w = shape[:2]
    unit = min(h, w)
    red, gold = tuple(int(255 * c) for c in RED), tuple(int(255 * c) for c in GOLD)
    lantern = tuple(int(255 * c) for c in LANTERN)
    layer = np.zeros((h, w, 3), np.uint8)
    alpha = np.zeros((h, w), np.uint8)

    def paint(draw: Callable[..., object], geometry: tuple[Any, ...], colour: tuple[int, ...],
              *rest: int) -> None:
        draw(layer, *geometry, colour, *rest)
        draw(alpha, *geometry, 255, *rest)

    aa = cv2.LINE_AA
    band = max(4, int(0.045 * unit))
    thin = max(1, band // 8)
    step = max(8, int(band * 1.6))
    # 1. Frame: red band, scalloped inner edge, gold rule and a row of gold diamonds.
    paint(cv2.rectangle, ((0, 0), (w - 1, h - 1)), red, 2 * band)
    scallops = [(x, y) for x in range(step // 2, w, step) for y in (band, h - 1 - band)]
    scallops += [(x, y) for y in range(step // 2, h, step) for x in (band, w - 1 - band)]
    for centre in scallops:
        paint(cv2.circle, (centre, step // 3), red, -1, aa)
    rule = band // 2
    paint(cv2.rectangle, ((rule, rule), (w - 1 - rule, h - 1 - rule)), gold, thin, aa)
    d = max(2, band // 4)
    for x in range(step // 2, w, step):
        for y in (band // 4, h - 1 - band // 4):
            paint(cv2.fillPoly, ([_diamond(x, y, d)],), gold, aa)
    # 2. Paper-cut corner fans: alternating red and gold quarter rings.
    r0 = int(0.17 * unit)
    for cx, cy, a0 in ((0, 0, 0), (w - 1, 0, 90), (w - 1, h - 1, 180), (0, h - 1, 270)):
        for k, r in enumerate(range(r0, band, -max(3, r0 // 6))):
            paint(cv2.ellipse, ((cx, cy), (r, r), 0, a0, a0 + 90), red if k % 2 == 0 else gold, -1, aa)
    # 3. Lanterns hanging in the top corners.
    rx, ry = max(4, int(0.06 * unit)), max(3, int(0.05 * unit))
    ly = int(0.22 * unit)
    for candidates in ((0.2, 0.1), (0.8, 0.9)):
        spots = [int(c * w) for c in candidates
                 if not _overlaps((c * w - rx, 0, c * w + rx, ly + 2 * ry), keep_clear)]
        if not spots:
            continue
        lx = spots[0]
        paint(cv2.line, ((lx, 0), (lx, ly)), gold, thin, aa)
        paint(cv2.ellipse, ((lx, ly), (rx, ry), 0, 0, 360), lantern, -1, aa)
        paint(cv2.ellipse, ((lx, ly), (rx, ry), 0, 0, 360), gold, 2 * thin, aa)
        for rib in (rx // 2, rx // 5):
            paint(cv2.ellipse, ((lx, ly), (rib, ry), 0, 0, 360), gold, thin, aa)
        for y0, y1 in ((ly - ry - ry // 4, ly - ry + ry // 6), (ly + ry - ry // 6, ly + ry + ry // 4)):
            paint(cv2.rectangle, ((lx - rx // 3, y0), (lx + rx // 3, y1)), gold, -1)
        paint(cv2.line, ((lx, ly + ry), (lx, ly + 2 * ry)), gold, 2 * thin, aa)
    # 4. Sparkles: small four-point stars, kept off the face.
    sparkle = np.zeros((h, w), np.uint8)
    count = 70
    xs, ys = rng.uniform(0, w, count), rng.uniform(0, h, count)
    sizes = rng.uniform(0.006, 0.02, count) * unit
    for x, y, size in zip(xs, ys, sizes, strict=True):
        if _overlaps((x, y, x, y), keep_clear):
            continue
        r, px, py = max(2, int(size)), int(x), int(y)
        cv2.line(sparkle, (px - r, py), (px + r, py), 255, 1, cv2.LINE_AA)
        cv2.line(sparkle, (px, py - r), (px, py + r), 255, 1, cv2.LINE_AA)
        cv2.circle(sparkle, (px, py), max(1, r // 4), 255, -1, cv2.LINE_AA)
    return ops.to_float(layer), ops.to_float(alpha), ops.to_float(sparkle)


def _lattice(shape: tuple[int, ...]) -> ops.Float:
    """A faint paper-cut lattice of coin shapes (a ring around a square hole), 0..1."""
    h, w = shape[:2]
    step = max(8, int(0.09 * min(h, w)))
    canvas = np.zeros((h, w), np.uint8)
    r = step // 3
    for row, y in enumerate(range(step // 2, h + step, step)):
        for x in range(step // 2 + (row % 2) * step // 2, w + step, step):
            cv2.circle(canvas, (x, y), r, 255, max(1, step // 16), cv2.LINE_AA)
            cv2.rectangle(canvas, (x - r // 3, y - r // 3), (x + r // 3, y + r // 3), 255, max(1, step // 20))
    return ops.to_float(canvas)


def render_new_year(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. at working size, the backdrop recoloured to a red-to-gold gradient, the subject
    printed as a festive poster: flat warm tones (three, four on the face) and a golden glow;
    2. full size: ink outlines of the print, the face's features and shapes drawn in; 3. paper-cut
    frame, lanterns, gold trim and sparkles."""
    image = ops.auto_level(ops.to_float(ctx.image))
    keep = ctx.face_keep(FACE_FLOOR)
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)
    fw = max(regions.face_width, 1.0)

    # 1. Red and gold backdrop; the subject in flat warm tones; glow.
    small, factor = ops.downscale(image)
    ws = min(small.shape[:2]) / 512.0
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.1, iterations=2)
    festive = ops.gradient_map(ops.luminance(smooth), RED_GRADIENT)
    subject = ops.subject_mask(small.shape, ops.scale_faces(ctx.faces, factor))
    warm = ops.split_tone(ops.saturate(smooth, 1.25), (0.55, 0.06, 0.06), (1.0, 0.85, 0.5), 0.75)
    printed = ops.cel_shade(warm, PRINT_TONES, softness=0.05, chroma=1.1)
    face_small = ops.f32(ops.resize_to(regions.face, small.shape)) if regions.any else None
    if face_small is not None:
        printed = ops.mix(printed, ops.cel_shade(warm, FACE_TONES, softness=0.08, chroma=1.05), face_small)
    festive = ops.towards(festive, GOLD, ops.f32(_lattice(small.shape) * 0.3))
    out = ops.mix(festive, printed, ops.f32(np.clip(subject * 0.9, 0.0, 1.0)))
    out = ops.bloom(out, 0.5, 30.0 * ws, 0.45)
    out = ops.split_tone(out, (0.5, 0.1, 0.05), (1.0, 0.9, 0.6), 0.2)
    out = ops.f32(ops.resize_to(out, image.shape))

    # 2. Ink outlines of the print; on the face its own features and shapes, a little of its
    # natural shading as the identity guard raises ``detail``.
    line_gray = ops.f32(ops.resize_to(ops.luminance(smooth), image.shape[:2]))
    lines = ops.xdog_lines(line_gray, sigma=0.8 * s, tau=0.985, epsilon=0.002, phi=60.0)
    lines = ops.f32(1.0 - (1.0 - lines) * ops.f32(ops.resize_to(subject, image.shape[:2])))
    out = ops.ink(out, lines, PRINT_INK)
    if regions.box is not None:
        gray = ops.luminance(image)
        out = ops.in_box(regions, out, lambda b: ops.ink(out[b], ops.f32(1.0 - (1.0 - ops.xdog_lines(
            ops.blur(gray[b], 0.012 * fw), sigma=0.7 * s, tau=0.985, phi=50.0)) * regions.face[b] * (0.5 + 0.3 * keep)), PRINT_INK),
            inplace=True)
        out = ops.in_box(regions, out, lambda b: ops.mix(
            out[b], ops.mix(image[b], out[b], 0.3), regions.face[b] * (0.5 * keep)), inplace=True)
        out = ops.smooth_skin(out, regions, 0.015 * fw, 0.5, inplace=True)

    # 3. Decorations.
    clear = [(f.box[0] - 0.5 * f.width, f.box[1] - 0.6 * f.height, f.box[2] + 0.5 * f.width,
              f.box[3] + 0.4 * f.height) for f in ctx.faces]
    layer, alpha, sparkle = _decorations(out.shape, clear, ctx.rng)
    out = ops.mix(out, layer, alpha)
    glitter = np.minimum(ops.blur(sparkle, 2.0 * s) * np.float32(2.0) + sparkle, 1.0)
    out = ops.screen(out, ops.affine(ops.gray3(glitter), GOLD))
    return ops.apply_strength(ctx.image, out, ctx.strength)


render_new_year.honours_detail = True  # type: ignore[attr-defined]
