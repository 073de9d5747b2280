"""Pencil sketch (素描): graphite contours, directional hatching in the shadows, drawing paper."""

from __future__ import annotations

import math
from functools import partial

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext

FACE_FLOOR = 0.1  # share of the face-specific treatment kept at detail 0 (the identity guard raises it)

PAPER = (0.97, 0.96, 0.93)
GRAPHITE = (0.17, 0.17, 0.20)
# (angle in degrees, tone threshold where the layer starts): later layers cross the earlier ones
HATCH_LAYERS = ((55.0, 0.22), (-35.0, 0.48), (10.0, 0.72))


def hatching(shape: tuple[int, int], angle: float, spacing: float, rng: np.random.Generator) -> ops.Float:
    """Parallel pencil strokes (1 = graphite) at ``angle`` degrees, ``spacing`` pixels apart.

    Strokes waver slightly, break into dashes of random length and vary in pressure, so the
    layer reads as hand hatching rather than a ruled screen.
    """
    h, w = shape
    theta = math.radians(angle)
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    waver = ops.noise(shape, rng, spacing * 6.0) * np.float32(0.18 * spacing)
    u = (xs * np.float32(math.cos(theta)) + ys * np.float32(math.sin(theta)) + waver) / np.float32(spacing)
    v = (ys * np.float32(math.cos(theta)) - xs * np.float32(math.sin(theta))) / np.float32(spacing * 7.0)
    row = np.floor(u)
    offset = np.float32(rng.uniform(0.0, 100.0))
    seg = np.floor(v + np.sin(row * np.float32(12.9898) + offset) * np.float32(43.7))
    rnd = np.sin(row * np.float32(78.233) + seg * np.float32(37.719) + offset)
    rnd = (rnd * np.float32(4375.85)) % np.float32(1.0)
    dist = np.abs(u - row - np.float32(0.5))
    stroke = np.clip(np.float32(1.0) - dist * np.float32(spacing / 1.1), 0.0, 1.0)
    pressure = np.where(rnd > 0.18, np.float32(0.55) + np.float32(0.45) * rnd, np.float32(0.0))
    return ops.f32(stroke * pressure)


def _darkness(gray: ops.Float, regions: ops.Regions, size: tuple[int, int],
              sigma: float) -> tuple[ops.Float, ops.Float | None]:
    """(darkness of the grey at hatching ``size``, the face mask there or None)."""
    half = ops.f32(cv2.resize(gray, size, interpolation=cv2.INTER_AREA))
    darkness = ops.f32(np.clip((0.8 - ops.blur(half, 0.8 * sigma)) / 0.7, 0.0, 1.0))
    face_half = ops.f32(cv2.resize(regions.face, size, interpolation=cv2.INTER_AREA)) if regions.any else None
    return darkness, face_half


def _pencil_lines(gray: ops.Float, s: float) -> ops.Float:
    """Steps 1-2 of :func:`render_sketch`: 1 where the paper stays untouched (no ``detail`` here)."""
    # 1. Colour-dodge of the grey by its blur: flat areas go white, every edge leaves a pencil line.
    quarter, factor = ops.downscale(gray, 256)
    base = ops.f32(ops.resize_to(ops.blur(quarter, 5.0 * s * factor), gray.shape))
    soft = ops.blur(gray, 0.6 * s)  # fabric and skin texture would turn into pencil noise
    dodge = np.minimum(cv2.divide(soft, np.maximum(base, np.float32(0.05))), np.float32(1.0))
    dodge = cv2.multiply(dodge, dodge)

    # 2. Contours: XDoG gives the confident outline strokes.
    lines = ops.xdog_lines(gray, sigma=0.9 * s, tau=0.98, phi=50.0)
    light = ops.f32(cv2.multiply(dodge, lines))  # 1 = untouched paper
    return light


def render_sketch(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. dodge-blend sketch (tone edges); 2. XDoG contours; 3. soft graphite tone and
    hatching layers in the shadows; 4. face: smooth tone, crisp features; 5. graphite on paper."""
    s = ctx.scale
    keep = ctx.face_keep(FACE_FLOOR)
    h, w = ctx.height, ctx.width
    regions = ctx.memo("sketch.regions", lambda: ops.face_regions(ctx.image, ctx.faces))
    gray = ctx.memo("sketch.gray", lambda: ops.to_float(np.asarray(cv2.cvtColor(ctx.image, cv2.COLOR_RGB2GRAY),
                                                                   np.uint8)))
    light = ctx.memo("sketch.lines", lambda: _pencil_lines(gray, s))

    # 3. Graphite tone and hatching, only where dark; on large images at half size (strokes stay
    # ~2 px wide at 1024 px), on small ones at full size so strokes and grain stay fine.
    detail = 2 if s >= 1.5 else 1
    hw, hh = max(8, w // detail), max(8, h // detail)
    darkness, face_half = ctx.memo("sketch.darkness", lambda: _darkness(gray, regions, (hw, hh), s / detail))
    spacing = max(2.5, 3.2 * s / detail)
    hatch = np.zeros((hh, hw), np.float32)
    for angle, start in HATCH_LAYERS:
        amount = np.clip((darkness - start) / 0.25, 0.0, 1.0)
        if face_half is not None:
            amount *= 1.0 - 0.8 * keep * face_half  # faces are shaded smoothly, not hatched
        if float(amount.max()) > 0.0:
            lines = ctx.memo(f"sketch.hatch{angle}", partial(hatching, (hh, hw), angle, spacing, ctx.rng))
            hatch = np.maximum(hatch, lines * amount)
    tone = darkness * (0.22 + 0.3 * keep * face_half) if face_half is not None else darkness * np.float32(0.22)
    shade = ops.f32(1.0 - (1.0 - tone) * (1.0 - 0.7 * hatch))
    light = ops.f32(cv2.multiply(light, ops.f32(ops.resize_to(1.0 - shade, gray.shape))))

    # 4. The face keeps its own (smoothed) shading; eyes, brows and lips are drawn crisply.
    if regions.box is not None:
        box = regions.box
        face_gray = ops.blur(gray[box], 0.7 * s)
        face_light = np.clip(face_gray * 1.15 + 0.02, 0.0, 1.0)
        merged = ops.f32(np.minimum(light[box], face_light))
        out_box = ops.mix(light[box], merged, regions.face[box] * (0.6 * keep))
        feature = np.clip((face_gray - 0.1) / 0.55, 0.0, 1.0)
        light[box] = ops.mix(out_box, np.minimum(out_box, feature), regions.features[box] * 0.9)

    # 5. Graphite on paper; the paper's grain shows through the strokes.
    paper = ctx.memo("sketch.paper", lambda: ops.f32(ops.resize_to(
        ops.paper_texture((hh, hw), ctx.rng, grain=0.05, mottle=0.025), gray.shape)))
    light = np.clip(light + (paper - 1.0) * (1.0 - light), 0.0, 1.0)
    paper_light = cv2.multiply(light, paper)
    coverage = ops.f32(1.0 - light)
    channels = [ops.f32(cv2.addWeighted(paper_light, p, coverage, g, 0.0)) for p, g in zip(PAPER, GRAPHITE, strict=True)]
    out = ops.f32(cv2.merge(channels))
    return ops.apply_strength(ctx.image, out, ctx.strength)


render_sketch.honours_detail = True  # type: ignore[attr-defined]
