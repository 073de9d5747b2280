"""Painted looks: oil painting (油画) and watercolour (水彩).

Both work at a reduced size (brush marks and washes are coarse) and go back to full size only for
the face detail, the lighting of the paint surface and the canvas or paper texture.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext

FACE_FLOOR = 0.0  # share of the face-specific treatment kept at detail 0 (the identity guard raises it)
OIL_FACE_FLOOR = 0.5  # oil strokes cross the face: more of its planes kept from the start

OIL_WORK_SIDE = 480  # short side of the oil painting's working copy
WATER_WORK_SIDE = 400


# --- flow field and brush primitives -------------------------------------------------------------


def guided_smooth(image: ops.Float, radius: int, eps: float) -> ops.Float:
    """Self-guided filter: O(1)-per-pixel edge-preserving smoothing (``eps`` ~ squared edge contrast)."""
    return ops.f32(cv2.ximgproc.guidedFilter(image, image, max(1, radius), eps))


def gradient_magnitude(gray: ops.Float, sigma: float) -> ops.Float:
    """Scharr gradient magnitude of ``gray`` blurred by ``sigma``."""
    g = ops.blur(gray, sigma)
    return ops.f32(cv2.magnitude(cv2.Scharr(g, cv2.CV_32F, 1, 0), cv2.Scharr(g, cv2.CV_32F, 0, 1)))


def stroke_flow(gray: ops.Float, sigma: float) -> tuple[ops.Float, ops.Float, ops.Float]:
    """Edge-tangent field of ``gray`` from its smoothed structure tensor: (tx, ty, coherence 0..1)."""
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    jxx = ops.blur(gx * gx, sigma)
    jxy = ops.blur(gx * gy, sigma)
    jyy = ops.blur(gy * gy, sigma)
    diff = jxx - jyy
    root = np.sqrt(diff * diff + 4.0 * jxy * jxy)
    # the major eigenvector (2 jxy, jyy - jxx + root) is the gradient; strokes run across it
    tx, ty = -(jyy - jxx + root), 2.0 * jxy
    norm = np.sqrt(tx * tx + ty * ty)
    flat = norm < 1e-9
    tx = np.where(flat, np.float32(1.0), tx / np.maximum(norm, 1e-9))
    ty = np.where(flat, np.float32(0.0), ty / np.maximum(norm, 1e-9))
    coherence = root / np.maximum(jxx + jyy, 1e-9)
    return ops.f32(tx), ops.f32(ty), ops.f32(np.clip(coherence, 0.0, 1.0))


def flow_smear(image: ops.Float, tx: ops.Float, ty: ops.Float, length: float, steps: int) -> ops.Float:
    """Average ``image`` along straight segments of ``length`` pixels following the tangent field.

    A short line-integral convolution: every pixel becomes the mean of samples taken forwards and
    backwards along its stroke direction, which turns noise into brush streaks and colour into
    directional strokes.
    """
    h, w = image.shape[:2]
    xs = np.arange(w, dtype=np.float32)[None, :].repeat(h, 0)
    ys = np.arange(h, dtype=np.float32)[:, None].repeat(w, 1)
    acc = image.copy()
    step = length / (2.0 * steps)
    for k in range(1, steps + 1):
        d = np.float32(k * step)
        for sign in (-1.0, 1.0):
            mx, my = xs + tx * (d * sign), ys + ty * (d * sign)
            acc += cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return ops.f32(acc / np.float32(2 * steps + 1))


def kuwahara(image: ops.Float, radius: int, sharpness: float = 8.0) -> ops.Float:
    """Smooth Kuwahara filter: each pixel blends the means of its four quadrant windows, weighted
    towards the least varied one, so regions flatten into paint patches while edges stay sharp."""
    luma = ops.luminance(image)
    size = (radius + 1, radius + 1)
    total = np.zeros_like(image)
    weight_sum = np.zeros(image.shape[:2], np.float32)
    luma_sq = luma * luma
    for anchor in ((0, 0), (radius, 0), (0, radius), (radius, radius)):
        mean = cv2.boxFilter(image, -1, size, anchor=anchor, borderType=cv2.BORDER_REFLECT)
        m1 = cv2.boxFilter(luma, -1, size, anchor=anchor, borderType=cv2.BORDER_REFLECT)
        m2 = cv2.boxFilter(luma_sq, -1, size, anchor=anchor, borderType=cv2.BORDER_REFLECT)
        var = np.maximum(m2 - m1 * m1, 0.0)
        weight = 1.0 / (1.0 + (var * np.float32(sharpness * 400.0)) ** 2)
        total += mean * weight[:, :, None]
        weight_sum += weight
    return ops.f32(total / weight_sum[:, :, None])


def emboss_light(height: ops.Float, direction: tuple[float, float], relief: float) -> ops.Float:
    """Shading multiplier (around 1) of a relief ``height`` lit from ``direction`` (x, y, image axes).

    The slope is normalised by its spread, so ``relief`` is the typical brightness change (0.08 =
    8 %) whatever the height's units; the steepest lit slopes get a specular glint.
    """
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3)
    lx, ly = direction
    slope = -(gx * np.float32(lx) + gy * np.float32(ly))
    slope *= np.float32(relief / (float(slope.std()) + 1e-6))
    glint = np.clip(slope - 2.0 * relief, 0.0, 2.0 * relief)
    return ops.f32(1.0 + np.clip(slope, -3.0 * relief, 3.0 * relief) + glint)


@lru_cache(maxsize=4)
def canvas_weave(shape: tuple[int, int], period: float, depth: float) -> ops.Float:
    """Linen canvas as a multiplier: a fine over-under weave of threads ``period`` pixels apart."""
    h, w = shape
    xs = np.arange(w, dtype=np.float32)
    ys = np.arange(h, dtype=np.float32)
    wx = np.sin(xs * np.float32(2.0 * np.pi / period))
    wy = np.sin(ys * np.float32(2.0 * np.pi / period))
    weave = np.abs(wy[:, None] * wx[None, :]) * (wx[None, :] > 0).astype(np.float32)
    out = ops.f32(1.0 - depth * 0.5 + depth * weave)
    out.setflags(write=False)
    return out


def _on_face(image: ops.Float, face: ops.Float | None, fn: Callable[[ops.Float], ops.Float]) -> ops.Float:
    """``image`` with ``fn`` applied inside the bounding box of ``face`` > 0 and blended through it."""
    if face is None:
        return image
    rows, cols = np.nonzero(face > 0.01)
    if rows.size == 0:
        return image
    box = slice(int(rows.min()), int(rows.max()) + 1), slice(int(cols.min()), int(cols.max()) + 1)
    out = image.copy()
    out[box] = ops.mix(image[box], fn(image[box]), face[box])
    return out


# --- oil -----------------------------------------------------------------------------------------


def _oil_flow(image: ops.Image) -> tuple[ops.Float, ops.Float, ops.Float, ops.Float, ops.Float]:
    """(working copy, its grey, stroke direction x and y, coherence) of the oil painting."""
    small_u8, _ = ops.downscale(image, OIL_WORK_SIDE)
    small = ops.to_float(small_u8)
    gray = ops.luminance(small)
    tx, ty, coherence = stroke_flow(gray, 5.0 * min(small.shape[:2]) / 512.0)
    return small, gray, tx, ty, coherence


def _bristles(shape: tuple[int, ...], rng: np.random.Generator, tx: ops.Float, ty: ops.Float, ws: float) -> ops.Float:
    """Bristle noise streaked along the strokes (the impasto relief before its lighting)."""
    bristles = ops.noise(shape, rng, 1.2 * ws) + 0.7 * ops.noise(shape, rng, 5.0 * ws)
    return flow_smear(ops.f32(bristles), tx, ty, length=18.0 * ws, steps=4)


def render_oil_painting(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. working copy and stroke flow; 2. paint patches (smooth Kuwahara, finer on the face);
    3. colour dragged along the strokes, varnish colour; 4. bristle relief lit from the upper left
    (impasto); 5. full size: face structure and features back, lit paint on canvas weave."""
    s = ctx.scale
    keep = ctx.face_keep(OIL_FACE_FLOOR)
    regions = ctx.memo("oil.regions", lambda: ops.face_regions(ctx.image, ctx.faces))

    # 1. Working copy and the direction of every stroke (kept for the guard's redraws).
    small, gray, tx, ty, coherence = ctx.memo("oil.flow", lambda: _oil_flow(ctx.image))
    ws = min(small.shape[:2]) / 512.0

    # 2. Paint patches: broad in the scene, finer on the face so it keeps its planes.
    face_small = ops.f32(ops.resize_to(regions.face, small.shape) * keep) if regions.any and keep > 0.05 else None
    patches = ctx.memo("oil.patches", lambda: kuwahara(small, max(2, round(8 * ws))))
    patches = _on_face(patches, face_small, lambda crop: kuwahara(crop, max(2, round(3 * ws)), sharpness=6.0))

    # 3. Strokes: colour smeared along the flow, longer where the flow is coherent; on the face,
    # shorter strokes along a smoother flow that follows the form; varnish colour.
    paint = flow_smear(patches, tx, ty, length=16.0 * ws, steps=4)
    paint = ops.mix(patches, paint, np.clip(0.4 + coherence, 0.0, 1.0))
    if face_small is not None:
        box = _face_box(face_small)
        ftx, fty, _ = stroke_flow(ops.blur(gray[box], 2.0 * ws), 4.0 * ws)
        face_paint = flow_smear(patches[box], ftx, fty, length=6.0 * ws, steps=3)
        paint[box] = ops.mix(paint[box], face_paint, face_small[box])
    paint = ops.curve(ops.saturate(paint, 1.12), [(0.0, 0.04), (0.25, 0.21), (0.6, 0.63), (1.0, 0.97)])
    paint = ops.split_tone(paint, (0.42, 0.37, 0.32), (0.6, 0.55, 0.45), 0.25)

    # 4. Impasto: bristle noise streaked along the strokes becomes a lit paint relief; each stroke
    # also carries a little more or less pigment.
    relief = ctx.memo("oil.bristles", lambda: _bristles(gray.shape, ctx.rng, tx, ty, ws))
    paint = ops.f32(paint * (1.0 + 0.09 * np.tanh(relief))[:, :, None])
    relief += 0.6 * ops.luminance(paint) / (float(relief.std()) + 1e-6) * 0.15
    shading = emboss_light(relief, (0.7, 0.7), 0.1)
    if face_small is not None:
        shading = ops.f32(shading - (shading - 1.0) * (0.35 * face_small))

    # 5. Full size: the face's structure under its own brushwork (its finest texture stays
    # painted), crisp features, lit paint on canvas; the weave is faint on the face.
    out = ops.f32(ops.resize_to(paint, ctx.image.shape))
    weave = ctx.memo("oil.weave", lambda: canvas_weave((ctx.height, ctx.width), max(3.0, 4.0 * s), 0.09))
    if regions.box is not None:
        fw = regions.face_width
        image = ops.to_float(ctx.image)
        out = ops.keep_face_detail(out, image, regions, 0.75 * keep, 0.07 * fw, fine=0.008 * fw, inplace=True)
        out = ops.redraw_features(out, ops.mix(out, image, 0.5), regions, 0.6 * keep, inplace=True)
        weave = ops.f32(weave + (1.0 - weave) * (0.85 * keep * regions.face))
    light = cv2.multiply(ops.f32(ops.resize_to(shading, ctx.image.shape)), weave)
    out = ops.f32(out * light[:, :, None])
    return ops.apply_strength(ctx.image, out, ctx.strength)


# --- watercolour ---------------------------------------------------------------------------------


def wet_bleed(image: ops.Float, rng: np.random.Generator, distance: float) -> ops.Float:
    """Colour that ran in wet paint: ``image`` pushed around by a smooth random field by up to
    ``distance`` pixels, so wash borders wobble and bleed into each other."""
    h, w = image.shape[:2]
    dx = ops.noise((h, w), rng, distance * 4.0) * np.float32(distance)
    dy = ops.noise((h, w), rng, distance * 4.0) * np.float32(distance)
    xs = np.arange(w, dtype=np.float32)[None, :] + dx
    ys = np.arange(h, dtype=np.float32)[:, None] + dy
    return ops.f32(cv2.remap(image, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))


def ragged_border(shape: tuple[int, int], rng: np.random.Generator, width: float) -> ops.Float:
    """1 inside, 0 at the image edge: the irregular unpainted margin of a watercolour sheet."""
    h, w = shape
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    edge = np.minimum(np.minimum(xs, w - 1 - xs), np.minimum(ys, h - 1 - ys)) / np.float32(width)
    wobble = ops.noise(shape, rng, width * 0.8) * np.float32(0.35)
    return ops.f32(np.clip((edge + wobble - 0.3) * 2.0, 0.0, 1.0))


def _washes(image: ops.Image) -> tuple[ops.Float, ops.Float]:
    """(working copy, its flat washes) of the watercolour: step 1 without the face's finer planes."""
    small_u8, _ = ops.downscale(image, WATER_WORK_SIDE)
    small = ops.to_float(small_u8)
    ws = min(small.shape[:2]) / 512.0
    wash = guided_smooth(small, max(2, round(8 * ws)), 0.012)
    return small, kuwahara(wash, max(2, round(4 * ws)), sharpness=4.0)


def render_watercolor(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. flat washes (edge-preserving abstraction, finer on the face); 2. wet bleeding;
    3. pigment: density from colour, granulation, flow mottling, edge darkening, white paper in the
    highlights and a ragged unpainted margin; 4. full size: face structure, crisp features;
    5. paper grain and a faint pencil underdrawing."""
    s = ctx.scale
    keep = ctx.face_keep(FACE_FLOOR)
    regions = ctx.memo("water.regions", lambda: ops.face_regions(ctx.image, ctx.faces))

    # 1. Washes: colour flattened into soft-edged areas; the face keeps finer planes.
    small, wash = ctx.memo("water.wash", lambda: _washes(ctx.image))
    ws = min(small.shape[:2]) / 512.0
    face_small = ops.f32(ops.resize_to(regions.face, small.shape) * keep) if regions.any and keep > 0.05 else None
    if face_small is not None:
        box = _face_box(face_small)
        fine = guided_smooth(small[box], max(1, round(3 * ws)), 0.004)
        wash[box] = ops.mix(wash[box], fine, face_small[box])

    # 2. Wet-in-wet: borders wobble and bleed, more in the scene than on the face.
    bled = ops.blur(wet_bleed(wash, ctx.rng, 4.0 * ws), 1.2 * ws)
    wash = ops.mix(bled, wash, face_small * 0.7) if face_small is not None else bled

    # 3. Pigment density (0 = bare paper) from how far the (livelier) colour is from white.
    density = ops.f32(1.0 - ops.saturate(wash, 1.35))
    density = ops.f32(0.84 * density / (1.0 + 0.3 * density))  # washes stay transparent, never opaque
    luma = ops.luminance(wash)
    granules = ops.noise(luma.shape, ctx.rng, 1.6) * np.float32(0.08)
    mottling = ops.noise(luma.shape, ctx.rng, 40.0 * ws) * np.float32(0.12)
    edges = gradient_magnitude(luma, 1.0 * ws)
    edges = np.clip(edges / (float(np.percentile(edges, 97)) + 1e-6), 0.0, 1.0)
    paper_white = np.clip((0.9 - luma) / 0.14, 0.0, 1.0)  # highlights are left unpainted
    margin = ragged_border(luma.shape, ctx.rng, 0.06 * min(luma.shape))
    texture = granules + mottling + 0.35 * edges
    if face_small is not None:
        texture *= 1.0 - 0.7 * face_small  # a smooth wash on the face keeps it readable
    amount = np.clip(1.0 + texture, 0.0, 1.6) * paper_white * margin
    sheet = np.array((0.99, 0.98, 0.95), np.float32)
    colour = ops.f32(sheet * (1.0 - density * amount[:, :, None]))

    # 4. Full size: face structure and features.
    colour = ops.f32(ops.resize_to(colour, ctx.image.shape))
    gray = ctx.memo("water.gray", lambda: np.asarray(cv2.cvtColor(ctx.image, cv2.COLOR_RGB2GRAY), np.uint8))
    if regions.box is not None:
        image = ops.to_float(ctx.image)
        colour = ops.keep_face_detail(colour, image, regions, 0.6 * keep, 2.5 * s)
        colour = ops.redraw_features(colour, ops.mix(colour, image, 0.6), regions, 0.6 * keep, luma_only=True)

    # 5. Paper grain shows through thin washes; a faint pencil underdrawing, lighter on the face.
    lines = ctx.memo("water.lines", lambda: ops.xdog_lines(ops.to_float(gray), sigma=0.9 * s, tau=0.985, phi=30.0))
    weight = 0.28 - 0.16 * keep * regions.face if regions.any else np.float32(0.28)
    hh, hw = max(8, ctx.height // 2), max(8, ctx.width // 2)
    paper = ctx.memo("water.paper", lambda: ops.f32(ops.resize_to(
        ops.paper_texture((hh, hw), ctx.rng, grain=0.05, mottle=0.02), gray.shape)))
    light = cv2.multiply(paper, ops.f32(1.0 - weight * (1.0 - lines)))
    out = ops.f32(colour * light[:, :, None])
    return ops.apply_strength(ctx.image, out, ctx.strength)


def _face_box(face: ops.Float | None) -> tuple[slice, slice]:
    if face is None:
        return slice(0, 0), slice(0, 0)
    rows, cols = np.nonzero(face > 0.01)
    return slice(int(rows.min()), int(rows.max()) + 1), slice(int(cols.min()), int(cols.max()) + 1)


render_oil_painting.honours_detail = True  # type: ignore[attr-defined]


render_watercolor.honours_detail = True  # type: ignore[attr-defined]
