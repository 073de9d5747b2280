"""Procedural backdrops, one per preset family, painted at a small size behind the main face."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.faces.types import Face

_BACKDROP_LONG_SIDE = 560  # backdrops are painted at most this size, then upsampled

Point = tuple[float, float]
Generator = Callable[[tuple[int, int], Point, float, np.random.Generator], np.ndarray]


# --- shared painting helpers ---------------------------------------------------------------------


def _noise(shape: tuple[int, int], rng: np.random.Generator, cell: float, octaves: int = 3) -> np.ndarray:
    """Smooth fractal value noise (float32 0..1), features about ``cell`` pixels wide."""
    h, w = shape
    out = np.zeros((h, w), np.float32)
    total = 0.0
    for octave in range(octaves):
        size = cell / (2**octave)
        gw, gh = max(2, int(w / size) + 2), max(2, int(h / size) + 2)
        grid = rng.random((gh, gw), dtype=np.float32)
        amp = 0.5**octave
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
    return ops.f32(np.clip(out / total, 0.0, 1.0))


def _gradient(shape: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int],
              power: float = 1.0) -> np.ndarray:
    h, w = shape
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None] ** power
    col = np.array(top, np.float32) * (1.0 - t) + np.array(bottom, np.float32) * t
    return np.repeat(col, w, axis=1)


def _radial(shape: tuple[int, int], focus: Point) -> np.ndarray:
    """Distance from ``focus`` divided by the image diagonal."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return ops.f32(np.sqrt((xx - focus[0]) ** 2 + (yy - focus[1]) ** 2) / math.hypot(h, w))


def _mix(base: np.ndarray, colour: tuple[int, int, int], alpha: np.ndarray) -> np.ndarray:
    return ops.f32(base + (np.array(colour, np.float32) - base) * alpha[..., None])


def _to_u8(img: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    return out


# --- generators: (shape, focus (x, y), unit = face width or a fraction of the image, rng) -------


def halftone_burst(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator) -> np.ndarray:
    """Comic sunburst rays behind the head with halftone dots that grow away from it."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = np.arctan2(yy - focus[1], xx - focus[0]) + float(rng.uniform(0, math.pi))
    rays = (np.floor(angle / (2 * math.pi) * 28) % 2).astype(np.float32)
    img = _mix(np.full((h, w, 3), (246, 225, 170), np.float32), (242, 180, 60), rays)
    cell = max(6.0, min(h, w) / 70.0)
    gx, gy = (xx % cell) - cell / 2, (yy % cell) - cell / 2
    dist = _radial(shape, focus)
    radius = cell * 0.55 * np.clip(dist * 2.2 - 0.1, 0.0, 1.0)
    dots = np.clip(radius - np.sqrt(gx * gx + gy * gy) + 0.5, 0.0, 1.0)
    img = _mix(img, (214, 70, 52), dots * (0.35 + 0.65 * rays))
    return _to_u8(img)


def neon_grid(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator) -> np.ndarray:
    """Synthwave night: gradient sky, striped sun, city skyline and a glowing perspective grid."""
    h, w = shape
    horizon = int(h * 0.62)
    img = _gradient(shape, (12, 6, 40), (90, 20, 110), 1.4)
    # sun behind the head, cut by horizontal stripes
    cx, r = focus[0], 0.28 * min(h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sun = np.clip(r - np.sqrt((xx - cx) ** 2 + (yy - horizon + 0.2 * r) ** 2), 0.0, 1.0)
    stripe = ((yy - horizon) % (r * 0.16) > r * 0.16 * (0.25 + 0.75 * np.clip((yy - horizon + r) / r, 0, 1)))
    sun *= ((yy < horizon - 0.55 * r) | ~stripe).astype(np.float32)
    sun_col = _mix(np.full((h, w, 3), (255, 210, 80), np.float32), (255, 60, 160),
                   np.clip((yy - (horizon - 1.2 * r)) / (1.2 * r), 0, 1))
    img += (sun_col - img) * sun[..., None]
    # skyline: blocks with lit windows
    x = 0
    while x < w:
        bw = int(rng.integers(max(8, w // 30), max(9, w // 12)))
        bh = int(rng.uniform(0.06, 0.25) * h)
        cv2.rectangle(img, (x, horizon - bh), (x + bw, horizon), (20, 10, 45), -1)
        for _ in range(int(bw * bh / 400)):
            wx, wy = x + int(rng.integers(2, max(3, bw - 2))), horizon - int(rng.integers(2, max(3, bh - 2)))
            img[wy:wy + 2, wx:wx + 2] = (80, 240, 255) if rng.random() < 0.5 else (255, 90, 220)
        x += bw + int(rng.integers(0, max(1, w // 60)))
    # perspective grid on the floor, glowing
    lines = np.zeros((h, w), np.float32)
    vx = w / 2
    thick = max(1, round(min(h, w) / 400))
    for k in range(-24, 25):
        cv2.line(lines, (round(vx), horizon), (round(vx + k * w / 8), h + h), 1.0, thick, cv2.LINE_AA)
    for k in range(1, 40):
        y = horizon + (h - horizon) * (k / 12.0) ** 2
        if y > h:
            break
        cv2.line(lines, (0, round(y)), (w, round(y)), 1.0, thick, cv2.LINE_AA)
    floor = np.zeros((h, w), np.float32)
    floor[horizon:] = 1.0
    img = img * (1.0 - floor[..., None]) + np.array((14, 4, 30), np.float32) * floor[..., None]
    lines *= floor
    glow = cv2.GaussianBlur(lines, (0, 0), 2.5 * thick + 1)
    img = _mix(img, (70, 235, 255), np.clip(lines + 1.5 * glow, 0.0, 1.0))
    cv2.line(img, (0, horizon), (w, horizon), (255, 90, 230), thick + 1, cv2.LINE_AA)
    return _to_u8(img)


def ink_mountains(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator,
                  tint: tuple[int, int, int] = (238, 228, 205)) -> np.ndarray:
    """Rice paper with three ranges of distant ink-wash mountains fading into mist, and a red seal."""
    h, w = shape
    img = np.full((h, w, 3), tint, np.float32)
    fibre = _noise(shape, rng, max(4.0, w / 160), 2)
    img *= (0.94 + 0.08 * fibre)[..., None]
    xs = np.arange(w, dtype=np.float32) / w
    yy = np.arange(h, dtype=np.float32)[:, None]
    for layer, (base, darkness) in enumerate(((0.42, 0.22), (0.55, 0.38), (0.7, 0.6))):
        ridge: np.ndarray = np.zeros(w, np.float32)
        for octave in range(4):
            freq = (1.2 + 0.6 * layer) * 2.2**octave
            ridge += (0.45**octave) * np.sin(2 * math.pi * freq * xs + rng.uniform(0, 2 * math.pi))
        ridge = h * (base - 0.11 * ridge - 0.06 * (1 - abs(xs * 2 - 1)) * (layer - 1))
        below = np.clip((yy - ridge[None, :]) / (0.004 * h + 1), 0.0, 1.0)
        mist = np.clip(1.0 - (yy - ridge[None, :]) / (0.22 * h), 0.15, 1.0)
        wash = ops.blur(ops.f32(below * mist * darkness * (0.8 + 0.3 * _noise(shape, rng, w / 12, 2))),
                        1.5 + 2.5 * (2 - layer))
        img = _mix(img, (45, 48, 52), np.clip(wash, 0.0, 1.0))
    seal = max(10, round(min(h, w) * 0.05))
    sx, sy = int(w * 0.9) - seal, int(h * 0.08)
    cv2.rectangle(img, (sx, sy), (sx + seal, sy + int(seal * 1.4)), (178, 34, 34), -1)
    cv2.rectangle(img, (sx + seal // 5, sy + seal // 5), (sx + seal - seal // 5, sy + int(seal * 1.2)),
                  (235, 215, 195), max(1, seal // 10))
    return _to_u8(img)


def jade_mountains(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator) -> np.ndarray:
    """The ink mountains on a pale jade-tinted paper (elegant Chinese style)."""
    return ink_mountains(shape, focus, unit, rng, tint=(226, 232, 218))


def festive_pattern(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator) -> np.ndarray:
    """Chinese New Year: red ground with a gold lattice, paper-cut rosettes and hanging lanterns."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = _mix(np.full((h, w, 3), (196, 24, 28), np.float32), (120, 8, 16), _radial(shape, focus) * 1.2)
    cell = max(16.0, min(h, w) / 14.0)
    u, v = (xx % cell) / cell - 0.5, (yy % cell) / cell - 0.5
    lattice = np.clip(1.5 - np.abs(np.abs(u) + np.abs(v) - 0.42) * cell * 0.5, 0.0, 1.0)
    img = _mix(img, (235, 178, 70), 0.35 * lattice)
    gold = (246, 196, 84)
    for cx, cy in ((0.12 * w, 0.85 * h), (0.88 * w, 0.85 * h)):  # paper-cut rosettes
        theta = np.arctan2(yy - cy, xx - cx)
        rr = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / (0.13 * min(h, w))
        petals = (rr < 0.55 + 0.35 * np.abs(np.cos(4 * theta))) & (rr > 0.25) & ~((rr > 0.62) & (rr < 0.7))
        img = _mix(img, gold, petals.astype(np.float32) * 0.9)
    lantern_r = 0.07 * min(h, w)
    for fx in (0.12, 0.3, 0.7, 0.88):  # lanterns hang from the top edge
        lx, ly = int(fx * w), int(h * (0.16 + 0.05 * rng.random()))
        cv2.line(img, (lx, 0), (lx, ly), gold, max(1, round(lantern_r / 25)), cv2.LINE_AA)
        cv2.ellipse(img, (lx, ly + int(lantern_r)), (int(lantern_r * 1.15), int(lantern_r)), 0, 0, 360,
                    (236, 40, 30), -1, cv2.LINE_AA)
        for k in (-0.55, 0.0, 0.55):
            cv2.ellipse(img, (lx, ly + int(lantern_r)), (max(1, int(lantern_r * 1.15 * abs(k))), int(lantern_r)),
                        0, 0, 360, (150, 10, 10), max(1, round(lantern_r / 20)), cv2.LINE_AA)
        cap = (int(lantern_r * 0.5), int(lantern_r * 0.18))
        cv2.rectangle(img, (lx - cap[0], ly - cap[1] // 2), (lx + cap[0], ly + cap[1]), gold, -1)
        bottom = ly + int(2 * lantern_r)
        cv2.rectangle(img, (lx - cap[0], bottom - cap[1]), (lx + cap[0], bottom + cap[1] // 2), gold, -1)
        cv2.line(img, (lx, bottom), (lx, bottom + int(lantern_r * 0.8)), gold, max(1, round(lantern_r / 12)))
    return _to_u8(img)


def bokeh(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator,
          colours: tuple[tuple[int, int, int], ...] = ((70, 58, 52), (150, 120, 96), (255, 214, 160))) -> np.ndarray:
    """Soft studio backdrop: a lit gradient with out-of-focus light discs."""
    h, w = shape
    dark, mid, light = colours
    img = _mix(np.full((h, w, 3), mid, np.float32), dark, np.clip(_radial(shape, focus) * 1.6, 0.0, 1.0))
    small = (max(8, w // 4), max(8, h // 4))
    discs = np.zeros((small[1], small[0], 3), np.float32)
    for _ in range(36):
        r = float(rng.uniform(0.02, 0.07)) * min(small)
        x, y = float(rng.uniform(0, small[0])), float(rng.uniform(0, small[1]) ** 1.0)
        layer = np.zeros_like(discs)
        cv2.circle(layer, (round(x), round(y)), max(1, round(r)), tuple(float(c) for c in light), -1, cv2.LINE_AA)
        discs = np.maximum(discs, layer * float(rng.uniform(0.15, 0.45)))
    discs = ops.f32(cv2.resize(cv2.GaussianBlur(discs, (0, 0), 1.2), (w, h), interpolation=cv2.INTER_LINEAR))
    img = 255.0 - (255.0 - img) * (1.0 - discs / 255.0)  # screen: light adds
    return _to_u8(img)


def pastel_bokeh(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator) -> np.ndarray:
    """Airy pastel bokeh for the fresh style."""
    return bokeh(shape, focus, unit, rng, ((196, 222, 214), (236, 242, 236), (255, 236, 240)))


def sky(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator,
        top: tuple[int, int, int] = (70, 150, 235), bottom: tuple[int, int, int] = (200, 232, 250)) -> np.ndarray:
    """Cartoon sky: a blue gradient with puffy, softly shaded clouds."""
    h, w = shape
    img = _gradient(shape, top, bottom, 0.8)
    small = (max(8, w // 4), max(8, h // 4))
    cloud = np.zeros((small[1], small[0]), np.float32)
    shade = np.zeros_like(cloud)
    for _ in range(5):
        cx, cy = float(rng.uniform(0, small[0])), float(rng.uniform(0.1, 0.7) * small[1])
        width = float(rng.uniform(0.15, 0.3)) * small[0]
        for _ in range(7):
            px, py = cx + float(rng.uniform(-0.5, 0.5)) * width, cy + float(rng.uniform(-0.12, 0.08)) * width
            r = float(rng.uniform(0.12, 0.25)) * width
            cv2.circle(cloud, (round(px), round(py)), max(1, round(r)), 1.0, -1, cv2.LINE_AA)
            cv2.circle(shade, (round(px), round(py - 0.35 * r)), max(1, round(r)), 1.0, -1, cv2.LINE_AA)
    cloud = ops.f32(cv2.resize(cv2.GaussianBlur(cloud, (0, 0), 1.0), (w, h), interpolation=cv2.INTER_LINEAR))
    shade = ops.f32(cv2.resize(cv2.GaussianBlur(shade, (0, 0), 1.5), (w, h), interpolation=cv2.INTER_LINEAR))
    img = _mix(img, (255, 255, 255), cloud)
    img = _mix(img, (205, 215, 235), cloud * (1.0 - shade) * 0.8)
    return _to_u8(img)


def candy_sky(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator) -> np.ndarray:
    """A saturated violet-to-pink sky for the colourful cartoon style."""
    return sky(shape, focus, unit, rng, top=(110, 80, 240), bottom=(255, 170, 210))


def battle_smoke(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator) -> np.ndarray:
    """Dusky battlefield: bronze haze, drifting smoke and embers."""
    h, w = shape
    img = _gradient(shape, (70, 62, 55), (150, 105, 60), 1.2)
    smoke = _noise(shape, rng, w / 5, 4)
    img = _mix(img, (40, 36, 34), np.clip((smoke - 0.45) * 2.2, 0.0, 1.0) * 0.8)
    img = _mix(img, (210, 170, 120), np.clip(0.35 - _radial(shape, focus), 0.0, 1.0) * 1.5)
    embers = np.zeros((h, w), np.float32)
    for _ in range(int(w * h / 9000)):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.circle(embers, (x, y), max(1, round(min(h, w) / 400)), float(rng.uniform(0.4, 1.0)), -1)
    embers = np.maximum(embers, cv2.GaussianBlur(embers, (0, 0), 2.0) * 2.0)
    img = _mix(img, (255, 150, 50), np.clip(embers, 0.0, 1.0))
    return _to_u8(img)


def pencil_paper(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator) -> np.ndarray:
    """White drawing paper with a loose graphite smudge behind the head."""
    h, w = shape
    img = np.full((h, w, 3), (244, 242, 236), np.float32)
    grain = _noise(shape, rng, 3.0, 2)
    smudge = np.clip(0.42 - _radial(shape, focus), 0.0, 1.0) * (0.6 + 0.8 * _noise(shape, rng, w / 6, 3))
    strokes = np.zeros((h, w), np.float32)
    length = max(6, round(min(h, w) / 25))
    for _ in range(int(w * h / 1500)):
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        cv2.line(strokes, (round(x), round(y)), (round(x + length), round(y - length)), 1.0, 1, cv2.LINE_AA)
    tone = np.clip(smudge * 0.55 + strokes * smudge * 0.5 + (grain - 0.5) * 0.06, 0.0, 1.0)
    return _to_u8(_mix(img, (70, 70, 76), tone))


def canvas_backdrop(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator) -> np.ndarray:
    """Classic painted studio backdrop: warm olive-brown, lighter behind the head, mottled strokes."""
    h, w = shape
    img = _mix(np.full((h, w, 3), (142, 120, 78), np.float32), (40, 34, 26),
               np.clip(_radial(shape, focus) * 1.8, 0.0, 1.0))
    mottle = _noise(shape, rng, w / 6, 4)
    strokes = cv2.blur(rng.random((h // 2, w // 2), dtype=np.float32), (9, 3))
    strokes = cv2.resize(strokes, (w, h), interpolation=cv2.INTER_LINEAR)
    img *= (0.8 + 0.35 * mottle + 0.25 * (strokes - 0.5))[..., None]
    return _to_u8(img)


def wash_paper(shape: tuple[int, int], focus: Point, unit: float, rng: np.random.Generator) -> np.ndarray:
    """Watercolour paper with loose wet blooms of two pale colours fading to white at the edges."""
    h, w = shape
    img = np.full((h, w, 3), (248, 246, 240), np.float32)
    for colour in ((120, 170, 215), (225, 150, 170)):
        field = _noise(shape, rng, w / 4, 3)
        bloom = np.clip((field - 0.45) * 3.0, 0.0, 1.0)
        edge = np.clip(bloom * (1.0 - bloom) * 4.0, 0.0, 1.0)  # pigment gathers at the wet edge
        img = _mix(img, colour, np.clip(bloom * 0.35 + edge * 0.2, 0.0, 1.0))
    fade = np.clip(1.0 - _radial(shape, focus) * 1.4, 0.0, 1.0)
    img = ops.f32(248.0 + (img - 248.0) * fade[..., None])
    return _to_u8(img)


GENERATORS: dict[str, Generator] = {
    "retro_comic": halftone_burst,
    "future_tech": neon_grid,
    "chinese_painting": ink_mountains,
    "elegant_chinese": jade_mountains,
    "new_year": festive_pattern,
    "portrait": bokeh,
    "fresh": pastel_bokeh,
    "fairy_tale_3d": sky,
    "anime": sky,
    "colorful_cartoon": candy_sky,
    "general": battle_smoke,
    "sketch": pencil_paper,
    "oil_painting": canvas_backdrop,
    "watercolor": wash_paper,
}


def procedural_background(style: str, shape: tuple[int, int], faces: list[Face],
                          rng: np.random.Generator) -> np.ndarray:
    """A backdrop (RGB uint8, ``shape`` = (h, w)) suited to preset ``style``, centred behind the main face."""
    h, w = shape
    scale = min(1.0, _BACKDROP_LONG_SIDE / max(h, w))
    sh, sw = max(16, round(h * scale)), max(16, round(w * scale))
    if faces:
        cx, cy = faces[0].center
        focus: Point = (cx * sw / w, cy * sh / h)
        unit = float(faces[0].width) * sw / w
    else:
        focus, unit = (sw / 2.0, sh * 0.4), min(sh, sw) / 4.0
    back = GENERATORS.get(style, bokeh)((sh, sw), focus, unit, rng)
    if (sh, sw) != (h, w):
        back = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR)
    return back


