"""Smoothing, line art and colour: palettes, tone curves, cel shading, grading."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from restyle.engines.classic.ops.core import (
    LUMA,
    Colour,
    Float,
    Image,
    affine,
    blur,
    f32,
    gray3,
    luminance,
    matrix,
    mix,
    plus,
    soft_light,
    to_float,
    to_uint8,
    towards,
)

# --- smoothing and lines -----------------------------------------------------------------------


def edge_preserving_smooth(image: Float, sigma_space: float, sigma_color: float,
                           iterations: int = 1) -> Float:
    """Repeated small bilateral filters: flatten texture, keep edges (use on working-size images).

    ``sigma_color`` is in 0..1 units. Runs on 8 bits, where OpenCV's bilateral filter is
    about a third faster than on floats; smoothing does not need more precision.
    """
    out = to_uint8(image)
    d = int(2 * round(sigma_space) + 1)
    for _ in range(iterations):
        out = np.asarray(cv2.bilateralFilter(out, d, sigma_color * 255.0, sigma_space), dtype=np.uint8)
    return to_float(out)


def xdog_lines(gray: Float, sigma: float, k: float = 1.6, tau: float = 0.98, epsilon: float = 0.0,
               phi: float = 60.0) -> Float:
    """Extended difference-of-Gaussians line art: 1 = paper, towards 0 = ink.

    ``sigma`` sets the line width, ``tau`` below 1 keeps flat areas white, ``epsilon`` shifts
    the threshold (more negative = fewer lines), ``phi`` the sharpness of the ink edge.
    """
    dog = blur(gray, sigma) - np.float32(tau) * blur(gray, sigma * k)
    # A clipped linear ramp instead of 1 + tanh: the same look at a fraction of the cost.
    return f32(np.clip(1.0 + np.float32(phi) * (dog - np.float32(epsilon)), 0.0, 1.0))


def thicken(lines: Float, size: int) -> Float:
    """Thicker ink (lines: 1 = paper, 0 = ink) by a grey erosion with a round kernel of ``size`` px."""
    if size <= 1:
        return lines
    return f32(cv2.erode(lines, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))))


def ink(image: Float, lines: Float, colour: Colour) -> Float:
    """Draw ``lines`` (1 = paper, 0 = ink) over a colour image in ink ``colour``."""
    return towards(image, colour, f32(1.0 - lines))


# --- colour ------------------------------------------------------------------------------------


def kmeans_palette(image: Float, colours: int, rng: np.random.Generator, samples: int = 6000) -> Float:
    """The ``colours`` k-means colours (colours, 3) of a random pixel subsample of ``image``."""
    flat = image.reshape(-1, 3)
    pick = rng.choice(len(flat), size=min(samples, len(flat)), replace=False)
    data = np.ascontiguousarray(flat[pick], dtype=np.float32)
    # cv2.kmeans seeds its centres from OpenCV's global RNG: seed it from ours to stay deterministic.
    cv2.setRNGSeed(int(rng.integers(0, 2**31 - 1)))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 12, 1e-3)
    if len(data) <= colours:
        return f32(data.copy())
    labels = np.zeros((len(data), 1), np.int32)
    _, _, centres = cv2.kmeans(data, max(1, colours), labels, criteria, 1, cv2.KMEANS_PP_CENTERS)
    return f32(centres).reshape(-1, 3)


def quantize_palette(image: Float, colours: int, rng: np.random.Generator,
                     samples: int = 6000) -> tuple[Float, Float]:
    """Reduce ``image`` to ``colours`` k-means colours: (quantized image, palette (colours, 3))."""
    palette = kmeans_palette(image, colours, rng, samples)
    return nearest_colour(image, palette), palette


def nearest_colour(image: Float, palette: Float, output: Float | None = None) -> Float:
    """Each pixel replaced by its nearest ``palette`` colour (RGB distance, through a 32^3 table).

    With ``output`` (same length as ``palette``) the pixel takes ``output[i]`` for the nearest
    ``palette[i]``, e.g. a recoloured palette.
    """
    table = (palette if output is None else f32(output))[_nearest_index(palette)]
    q = cv2.convertScaleAbs(np.maximum(image, 0.0), alpha=31.0).astype(np.float32)
    index = cv2.transform(q, np.array([[1024.0, 32.0, 1.0]], np.float32)).astype(np.int32)
    return f32(np.take(table, index, axis=0))


def _nearest_index(palette: Float) -> npt.NDArray[np.intp]:
    grid = (np.arange(32, dtype=np.float32) + 0.5) / 32.0
    cube = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1).reshape(-1, 3)
    d = (palette * palette).sum(1)[None, :] - 2.0 * cube @ palette.T
    return np.asarray(d.argmin(1))


def tone_lut(points: Sequence[tuple[float, float]]) -> npt.NDArray[np.uint8]:
    """A 256-entry uint8 curve through (input, output) points in 0..1 (piecewise linear, smoothed)."""
    xs, ys = zip(*sorted(points), strict=True)
    values = np.interp(np.linspace(0.0, 1.0, 256), xs, ys)
    values = np.convolve(np.pad(values, 8, mode="edge"), np.ones(17) / 17.0, mode="valid")
    return np.clip(np.round(values * 255.0), 0, 255).astype(np.uint8)


def apply_lut(image: Image, lut: npt.NDArray[np.uint8]) -> Image:
    """Apply a (256,) curve to every channel, or a (256, 3) curve per channel (cv2.LUT)."""
    table = lut.reshape(256, 1, 3) if lut.ndim == 2 else lut
    return np.asarray(cv2.LUT(image, table), dtype=np.uint8)


def curve(image: Float, points: Sequence[tuple[float, float]] | npt.NDArray[np.uint8]) -> Float:
    """A tone curve (points for :func:`tone_lut`, or a ready LUT) on a float image, 8-bit precision."""
    lut = points if isinstance(points, np.ndarray) else tone_lut(points)
    return to_float(apply_lut(to_uint8(image), lut))


def staircase_lut(levels: Sequence[float], softness: float = 0.04) -> npt.NDArray[np.uint8]:
    """A uint8 curve with ``len(levels)`` flat steps (output values ``levels`` in 0..1) at equal input
    intervals, joined by smooth ramps ``softness`` wide: posterized cel tones without jaggies."""
    xs = np.linspace(0.0, 1.0, 256)
    n = len(levels)
    out = np.full(256, levels[0], np.float64)
    for i in range(1, n):
        t = np.clip((xs - i / n) / max(softness, 1e-3) + 0.5, 0.0, 1.0)
        out += (levels[i] - levels[i - 1]) * t * t * (3.0 - 2.0 * t)
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def cel_shade(image: Float, levels: Sequence[float], softness: float = 0.04, chroma: float = 1.0) -> Float:
    """Quantize lightness into flat tones (see :func:`staircase_lut`) keeping hue; ``chroma``
    scales the colourfulness. Each colour region ends up with a few shades of its own hue."""
    ycc = cv2.cvtColor(np.clip(image, 0.0, 1.0), cv2.COLOR_RGB2YCrCb)
    y, cr, cb = cv2.split(ycc)
    y = curve(f32(y), staircase_lut(levels, softness))
    c = np.float32(chroma)
    cr, cb = f32((cr - 0.5) * c + 0.5), f32((cb - 0.5) * c + 0.5)
    return f32(cv2.cvtColor(cv2.merge([y, cr, cb]), cv2.COLOR_YCrCb2RGB))


def saturate(image: Float, amount: float) -> Float:
    """Scale colourfulness around each pixel's luma (0 = grey, 1 = unchanged, >1 = more vivid)."""
    luma = np.array(LUMA, np.float32)
    m = np.float32(amount) * np.eye(3, dtype=np.float32) + np.float32(1.0 - amount) * luma[None, :]
    return matrix(image, m.tolist())


def adjust_hsv(image: Float, hue_shift: float = 0.0, saturation: float = 1.0, value: float = 1.0) -> Float:
    """Rotate hue by ``hue_shift`` degrees and scale HSV saturation and value."""
    h, s, v = cv2.split(cv2.cvtColor(np.clip(image, 0.0, 1.0), cv2.COLOR_RGB2HSV))
    h = (f32(h) + np.float32(hue_shift)) % np.float32(360.0)
    s = np.minimum(s * np.float32(saturation), 1.0)
    v = np.minimum(v * np.float32(value), 1.0)
    return f32(cv2.cvtColor(cv2.merge([h, s, v]), cv2.COLOR_HSV2RGB))


def gradient_map(gray: Float, stops: Sequence[tuple[float, Colour]]) -> Float:
    """Colour a grey image through a gradient of (position 0..1, RGB 0..1) stops (duotone, tritone)."""
    pos = np.array([p for p, _ in stops], np.float32)
    cols = np.array([c for _, c in stops], np.float32)
    xs = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    table = np.stack([np.interp(xs, pos, cols[:, i]) for i in range(3)], axis=-1)
    lut = np.clip(np.round(table * 255.0), 0, 255).astype(np.uint8).reshape(256, 1, 3)
    g = to_uint8(gray)
    return to_float(np.asarray(cv2.LUT(cv2.merge([g, g, g]), lut), dtype=np.uint8))


def split_tone(image: Float, shadows: Colour, highlights: Colour, amount: float) -> Float:
    """Tint shadows towards one colour and highlights towards another (soft-light toning)."""
    base = np.clip(image, 0.0, 1.0)  # soft light turns values above 1 into colour casts
    span = tuple(h - s for h, s in zip(highlights, shadows, strict=True))
    tone = affine(gray3(luminance(base)), span, shadows)
    return mix(base, soft_light(base, tone), amount)


def auto_level(image: Float, low: float = 0.01, high: float = 0.99, max_gain: float = 2.5) -> Float:
    """Stretch lightness so its ``low`` and ``high`` quantiles land on 0 and 1 (gain capped at
    ``max_gain``): dark or washed-out photos start a style from the same footing as good ones."""
    sample = luminance(image[::4, ::4])
    lo, hi = (float(v) for v in np.quantile(sample, [low, high]))
    gain = min(max_gain, 1.0 / max(hi - lo, 1e-3))
    if gain <= 1.02:
        return image
    out = affine(image, gain, -lo * gain)
    return f32(np.clip(out, 0.0, 1.0, out=out))


def local_contrast(image: Float, sigma: float, amount: float) -> Float:
    """Clarity: boost luminance detail coarser than fine texture (unsharp mask with a big radius)."""
    luma = luminance(image)
    return plus(image, (luma - blur(luma, sigma)) * np.float32(amount))


