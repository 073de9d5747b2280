"""Image primitives shared by the classic engine's styles.

Conventions: colour images are RGB; ``Image`` is uint8, ``Float`` is float32 in 0..1 (colour
HxWx3 or single-channel HxW). Functions never modify their inputs, except the face helpers
called with ``inplace=True``. Randomness comes only from a caller's ``np.random.Generator``, so
styles stay deterministic for a seed.

Speed: a style has about 150 ms for a megapixel on one core, and every full-size colour
temporary costs 1.5-3 ms (memory traffic and page faults). NumPy broadcasting of a colour image
against a (3,) vector or an HxWx1 mask is several times slower than OpenCV, so the helpers here
(``affine``, ``times``, ``plus``, ``towards``, ``mix``) go through OpenCV; styles do smoothing,
quantization and grading at ``WORK_SHORT_SIDE`` and keep only lines, textures and the face box
at full size. Face work runs on the face box only, with filter sizes relative to the face width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from restyle.faces.masks import FaceMasks, build_masks
from restyle.faces.types import Face

Image = npt.NDArray[np.uint8]
Float = npt.NDArray[np.float32]
Colour = tuple[float, float, float]
Box = tuple[slice, slice]

WORK_SHORT_SIDE = 512  # working resolution for smoothing and quantization
LUMA = (0.299, 0.587, 0.114)


# --- conversions and arithmetic ----------------------------------------------------------------


def f32(array: Any) -> Float:
    """``array`` (e.g. an OpenCV result) as float32, without a copy when it already is."""
    return np.asarray(array, dtype=np.float32)


def to_float(image: Image) -> Float:
    """uint8 0..255 -> float32 0..1."""
    return f32(np.multiply(image, np.float32(1.0 / 255.0), dtype=np.float32))


def to_uint8(image: Float) -> Image:
    """float 0..1 -> uint8 0..255, saturated and rounded."""
    # addWeighted with an 8-bit dtype scales, rounds and saturates in one pass.
    return np.asarray(cv2.addWeighted(image, 255.0, image, 0.0, 0.0, dtype=cv2.CV_8U), dtype=np.uint8)


def luminance(rgb: Float) -> Float:
    """Rec. 601 luma of an RGB float image."""
    return f32(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


def gray3(gray: Float) -> Float:
    """A single-channel image repeated into three channels."""
    return f32(cv2.merge([gray, gray, gray]))


def matrix(image: Float, m: Sequence[Sequence[float]]) -> Float:
    """Per-pixel colour transform ``out = M @ [r, g, b(, 1)]`` with a 3x3 or 3x4 matrix."""
    return f32(cv2.transform(image, np.asarray(m, np.float32)))


def affine(image: Float, gain: Sequence[float] | float, offset: Sequence[float] | float = 0.0) -> Float:
    """``image * gain + offset`` per channel (scalars apply to all three)."""
    g = np.broadcast_to(np.asarray(gain, np.float32), (3,))
    o = np.broadcast_to(np.asarray(offset, np.float32), (3,))
    return matrix(image, np.column_stack([np.diag(g), o]).tolist())


def times(image: Float, mask: Float) -> Float:
    """A colour image times a single-channel mask."""
    out = gray3(mask)
    return f32(cv2.multiply(image, out, dst=out))


def plus(image: Float, delta: Float) -> Float:
    """A colour image plus a single-channel image on every channel."""
    out = gray3(delta)
    return f32(cv2.add(image, out, dst=out))


def mix(a: Float, b: Float, alpha: Float | float) -> Float:
    """``a`` where alpha is 0, ``b`` where it is 1; ``alpha`` is a scalar or an HxW mask."""
    if not isinstance(alpha, np.ndarray):
        return f32(cv2.addWeighted(a, 1.0 - float(alpha), b, float(alpha), 0.0))
    if a.ndim == 3 and alpha.ndim == 2:
        # blendLinear divides by the weight sum, which is 1 here.
        weight = f32(alpha)
        return f32(cv2.blendLinear(a, b, 1.0 - weight, weight))
    return f32(a + (b - a) * alpha)


@lru_cache(maxsize=8)
def _flat(h: int, w: int, colour: tuple[float, ...]) -> Float:
    out = np.empty((h, w, 3), np.float32)
    out[:] = colour
    out.setflags(write=False)
    return out


def towards(image: Float, colour: Colour, alpha: Float | float) -> Float:
    """``image`` moved towards a flat ``colour`` by ``alpha`` (scalar or HxW mask)."""
    c = tuple(float(x) for x in colour)
    if not isinstance(alpha, np.ndarray):
        a = float(alpha)
        return affine(image, 1.0 - a, (a * c[0], a * c[1], a * c[2]))
    # Blending with a cached flat colour plane is one pass instead of five.
    weight = f32(alpha)
    flat = _flat(int(image.shape[0]), int(image.shape[1]), c)
    return f32(cv2.blendLinear(image, flat, 1.0 - weight, weight))


def screen(a: Float, b: Float) -> Float:
    """Screen blend ``a + b - a * b``: brightens, never darker than either input."""
    out = f32(1.0 - a)
    cv2.multiply(b, out, dst=out)
    return f32(cv2.add(a, out, dst=out))


def soft_light(base: Float, blend: Float) -> Float:
    """Pegtop soft light ``base^2 + 2 * blend * (base - base^2)``: blend above 0.5 lightens, below darkens."""
    bb = cv2.multiply(base, base)
    out = cv2.subtract(base, bb)
    cv2.multiply(out, blend, dst=out, scale=2.0)
    return f32(cv2.add(bb, out, dst=out))


def blur(image: Float, sigma: float) -> Float:
    """Gaussian blur; a no-op for sigma <= 0.

    Wide blurs (sigma > 3) run on a copy shrunk so that sigma is 1.5 to 3 px there, then are
    resized back: just as smooth, and the cost no longer grows with sigma.
    """
    if sigma <= 0:
        return image
    if sigma <= 3.0:
        return f32(cv2.GaussianBlur(image, (0, 0), sigma))
    h, w = image.shape[:2]
    factor = min(0.5, 3.0 / sigma)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma * factor)
    return f32(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))


def apply_strength(original: Image, styled: Float, strength: float) -> Image:
    """Fade ``styled`` towards ``original`` as ``strength`` goes from 1 to 0; returns uint8."""
    out = to_uint8(styled)
    if strength >= 1.0:
        return out
    a = max(0.0, float(strength))
    return np.asarray(cv2.addWeighted(original, 1.0 - a, out, a, 0.0), dtype=np.uint8)


# --- resolution --------------------------------------------------------------------------------


def downscale(image: npt.NDArray[Any], short_side: int = WORK_SHORT_SIDE) -> tuple[npt.NDArray[Any], float]:
    """``image`` shrunk (never enlarged) so its short side is ``short_side``, and the factor used."""
    h, w = image.shape[:2]
    factor = min(1.0, short_side / float(min(h, w)))
    if factor >= 1.0:
        return image, 1.0
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA)), factor


def resize_to(image: npt.NDArray[Any], shape: tuple[int, ...]) -> npt.NDArray[Any]:
    """``image`` resized (bilinear) to height and width ``shape[:2]``; unchanged when it fits."""
    h, w = shape[:2]
    if image.shape[:2] == (h, w):
        return image
    return np.asarray(cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR))


def scale_faces(faces: list[Face], factor: float) -> list[Face]:
    """Faces in the coordinates of the image resized by ``factor`` (e.g. the working copy)."""
    if factor == 1.0:
        return faces
    return [face.transformed(factor, 0.0, 0.0) for face in faces]


# --- face regions ------------------------------------------------------------------------------


@dataclass
class Regions:
    """Soft face regions of one image (float32 HxW in 0..1; zeros when there is no face).

    ``face`` covers jaw to forehead, ``head`` adds hair, ``features`` is eyes + brows + lips.
    ``box`` (row slice, column slice) bounds the face masks (face, skin and features; not the
    larger head) so that face-only work runs on that crop; it is None when there is no face.
    ``face_width`` is the main face's jaw width in pixels (0 without a face): size face-only
    filters by it, not by the image size.
    """

    face: Float
    head: Float
    features: Float
    masks: FaceMasks | None
    box: Box | None
    face_width: float = 0.0

    @property
    def any(self) -> bool:
        return self.box is not None


def face_regions(image: Image, faces: list[Face]) -> Regions:
    """The soft face regions of ``image`` for ``faces`` (an empty list gives zero masks)."""
    if not faces:
        zero = np.zeros(image.shape[:2], np.float32)
        return Regions(zero, zero, zero, None, None)
    masks = build_masks(image, faces)
    features = np.minimum(masks.eyes + masks.brows + masks.lips, 1.0)
    patches = [p for c in masks.crops for p in (c.face, c.skin, c.eyes, c.brows, c.lips)
               if p is not None and p.values.size]
    box = None
    if patches:
        left, top = min(p.region[0] for p in patches), min(p.region[1] for p in patches)
        right, bottom = max(p.region[2] for p in patches), max(p.region[3] for p in patches)
        box = (slice(top, bottom), slice(left, right))
    pts = np.asarray(faces[0].landmarks, np.float32)
    width = float(np.hypot(*(pts[16] - pts[0])))
    return Regions(f32(masks.face), f32(masks.head), f32(features), masks, box, width)


def in_box(regions: Regions, image: Float, fn: Callable[[Box], Float], *, inplace: bool = False) -> Float:
    """``image`` with its face box replaced by ``fn(box)``: a copy, or ``image`` itself changed when
    ``inplace`` (pass only an image you own; saves a full-size copy). Unchanged without a face."""
    if regions.box is None:
        return image
    out = image if inplace else image.copy()
    out[regions.box] = fn(regions.box)
    return out


def subject_mask(shape: tuple[int, ...], faces: list[Face], feather: float = 0.25) -> Float:
    """Rough person mask without segmentation: each face's head plus a torso widening to the
    bottom of the image, feathered by ``feather`` face widths; a centred ellipse without faces."""
    h, w = shape[:2]
    small, factor = np.zeros((max(1, h // 4), max(1, w // 4)), np.float32), 0.25
    if not faces:
        axes = (max(1, small.shape[1] // 3), max(1, small.shape[0] // 2 - 1))
        cv2.ellipse(small, (small.shape[1] // 2, small.shape[0] // 2), axes, 0, 0, 360, 1.0, -1)
        return f32(resize_to(blur(small, 0.1 * min(small.shape)), shape))
    sigma = 1.0
    for face in faces:
        pts = np.asarray(face.landmarks, np.float32) * factor
        fw = max(2.0, float(np.hypot(*(pts[16] - pts[0]))))
        cx, chin = float(pts[:, 0].mean()), float(pts[8, 1])
        top = float(pts[19:25, 1].min()) - 0.75 * fw
        cv2.ellipse(small, (round(cx), round((top + chin) / 2)), (round(0.75 * fw), round((chin - top) / 2)),
                    0, 0, 360, 1.0, -1)
        neck = chin + 0.35 * fw
        bottom = small.shape[0]
        torso = np.array([[cx - 0.45 * fw, chin], [cx + 0.45 * fw, chin], [cx + 1.3 * fw, neck],
                          [cx + 2.0 * fw, bottom], [cx - 2.0 * fw, bottom], [cx - 1.3 * fw, neck]])
        cv2.fillPoly(small, [np.round(torso).astype(np.int32)], 1.0)
        sigma = max(sigma, feather * fw)
    return f32(np.clip(resize_to(blur(small, sigma), shape), 0.0, 1.0))


def keep_face_detail(styled: Float, original: Float, regions: Regions, amount: float, sigma: float,
                     fine: float = 0.0, mask: Float | None = None, *, inplace: bool = False) -> Float:
    """Put the original's luminance structure back into ``styled`` on the face.

    The band of detail between ``fine`` and ``sigma`` (blur sigmas, px) of the original replaces
    the styled image's own: the shapes a face recogniser reads (eye sockets, nose, mouth corners)
    come back while tones, colours and (with ``fine`` > 0) smoothed skin texture stay styled.
    Weighted by ``amount * mask`` (default: the face mask). ``inplace`` as in :func:`in_box`.
    """
    weights = regions.face if mask is None else mask

    def band(gray: Float) -> Float:
        return blur(gray, fine) - blur(gray, sigma)

    def detail(box: Box) -> Float:
        delta = band(luminance(original[box])) - band(luminance(styled[box]))
        return plus(styled[box], delta * (weights[box] * np.float32(amount)))

    return in_box(regions, styled, detail, inplace=inplace)


def redraw_features(styled: Float, source: Float, regions: Regions, amount: float = 1.0,
                    luma_only: bool = False, *, inplace: bool = False) -> Float:
    """Paste eyes, brows and lips from ``source`` (e.g. the original) into ``styled`` through their masks.

    With ``luma_only`` the styled colours stay and only the source's lightness is taken.
    ``inplace`` as in :func:`in_box`.
    """
    if amount <= 0:
        return styled

    def paste(box: Box) -> Float:
        alpha = regions.features[box] * np.float32(amount)
        if luma_only:
            return plus(styled[box], (luminance(source[box]) - luminance(styled[box])) * alpha)
        return mix(styled[box], source[box], alpha)

    return in_box(regions, styled, paste, inplace=inplace)


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


# --- light -------------------------------------------------------------------------------------


def relief(gray: Float, sigma: float, angle: float = 135.0) -> Float:
    """Directional light on the surface whose height is ``gray`` (blurred by ``sigma``): signed,
    positive on slopes facing a light from ``angle`` degrees (0 = right, 90 = top), about unit scale."""
    g = blur(gray, sigma)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    t = np.deg2rad(angle)
    # Image y points down, so a light "above" is at negative y.
    lit = gx * np.float32(-np.cos(t)) + gy * np.float32(np.sin(t))
    return f32(lit * np.float32(max(sigma, 1.0)))


def bloom(image: Float, threshold: float, sigma: float, amount: float) -> Float:
    """Glow: the parts brighter than ``threshold``, blurred (at 1/4 size), screened on top."""
    h, w = image.shape[:2]
    small = f32(cv2.resize(image, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA))
    bright = affine(small, 1.0 / max(1e-3, 1.0 - threshold), -threshold / max(1e-3, 1.0 - threshold))
    glow = f32(resize_to(blur(np.maximum(bright, 0.0), sigma / 4.0), image.shape))
    return screen(image, np.minimum(glow * np.float32(amount), 1.0))


def vignette(shape: tuple[int, ...], strength: float, radius: float = 0.5, softness: float = 0.6) -> Float:
    """Multiplier darkening towards the corners: 1 inside ``radius`` (of the half-diagonal),
    down to ``1 - strength`` at the corners over ``softness``."""
    h, w = shape[:2]
    ys = (np.arange(h, dtype=np.float32) - h / 2.0) / np.float32(h / 2.0)
    xs = (np.arange(w, dtype=np.float32) - w / 2.0) / np.float32(w / 2.0)
    r = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2) * np.float32(1.0 / np.sqrt(2.0))
    t = np.clip((r - np.float32(radius)) / np.float32(max(1e-3, softness)), 0.0, 1.0)
    return f32(1.0 - np.float32(strength) * t * t * (3.0 - 2.0 * t))


def radial(shape: tuple[int, ...], centre: tuple[float, float], radius: float) -> Float:
    """Soft disc: 1 at ``centre`` (x, y), falling smoothly to 0 at ``radius`` pixels."""
    h, w = shape[:2]
    ys = np.arange(h, dtype=np.float32)[:, None] - np.float32(centre[1])
    xs = np.arange(w, dtype=np.float32)[None, :] - np.float32(centre[0])
    t = np.clip(np.sqrt(xs * xs + ys * ys) * np.float32(1.0 / max(radius, 1.0)), 0.0, 1.0)
    return f32(1.0 - t * t * (3.0 - 2.0 * t))


# --- texture -----------------------------------------------------------------------------------


def noise(shape: tuple[int, ...], rng: np.random.Generator, scale: float = 1.0) -> Float:
    """Smooth Gaussian noise (std about 1, less once interpolated) with features ``scale`` px wide."""
    h, w = shape[:2]
    step = max(1.0, scale)
    sh, sw = max(2, int(np.ceil(h / step)) + 1), max(2, int(np.ceil(w / step)) + 1)
    small = rng.standard_normal((sh, sw), dtype=np.float32)
    if step == 1.0:
        return f32(small[:h, :w])
    return f32(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC))


def paper_texture(shape: tuple[int, ...], rng: np.random.Generator, grain: float = 0.04,
                  mottle: float = 0.03, fibres: int = 0) -> Float:
    """Paper as a multiplier around 1: soft grain, low-frequency mottling and optional fibres.

    Grain is drawn at half resolution (cheaper, and paper grain is soft anyway); fibres are
    ``fibres`` short light and dark strokes about 1/25 of the short side long.
    """
    h, w = shape[:2]
    tex = np.float32(grain) * noise(shape, rng, 2.0) + np.float32(mottle) * noise(shape, rng, min(h, w) / 10)
    tex += np.float32(1.0)
    if fibres:
        layer = np.zeros((h, w), np.float32)
        x0, y0 = rng.uniform(0, w, fibres), rng.uniform(0, h, fibres)
        ang = rng.uniform(0, np.pi, fibres)
        length = rng.uniform(0.3, 1.0, fibres) * min(h, w) / 25.0
        value = rng.choice(np.array([-1.0, 1.0]), fibres) * rng.uniform(0.3, 1.0, fibres)
        for i in range(fibres):
            end = (int(x0[i] + length[i] * np.cos(ang[i])), int(y0[i] + length[i] * np.sin(ang[i])))
            cv2.line(layer, (int(x0[i]), int(y0[i])), end, float(value[i]), 1, cv2.LINE_AA)
        tex = tex + np.float32(0.05) * blur(layer, 0.6)
    return f32(tex)


@lru_cache(maxsize=8)
def _screen_distance(h: int, w: int, cell: float, angle: float) -> Float:
    theta = np.deg2rad(angle)
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    u = (xs * np.float32(np.cos(theta)) + ys * np.float32(np.sin(theta))) / np.float32(cell)
    v = (ys * np.float32(np.cos(theta)) - xs * np.float32(np.sin(theta))) / np.float32(cell)
    fu, fv = u - np.floor(u) - 0.5, v - np.floor(v) - 0.5
    out = f32(np.sqrt(fu * fu + fv * fv) * np.float32(cell))
    out.setflags(write=False)
    return out


def halftone(darkness: Float, cell: float, angle: float = 45.0) -> Float:
    """Round-dot screen: ink coverage (1 = ink) whose dot area follows ``darkness`` (0..1).

    Dots sit on a grid of ``cell`` pixels rotated by ``angle`` degrees, anti-aliased over a pixel.
    """
    h, w = darkness.shape[:2]
    dist = _screen_distance(h, w, float(cell), float(angle))
    radius = cv2.sqrt(np.clip(darkness, 0.0, 1.0) * np.float32(cell * cell / np.pi))
    return f32(np.clip(radius - dist + 0.5, 0.0, 1.0))


def scanlines(shape: tuple[int, ...], period: float, depth: float) -> Float:
    """Horizontal scanlines as a multiplier between 1 and ``1 - depth``, ``period`` px apart."""
    h, w = shape[:2]
    wave = 0.5 + 0.5 * np.cos(np.arange(h, dtype=np.float32) * np.float32(2.0 * np.pi / period))
    rows = (1.0 - np.float32(depth) * wave).astype(np.float32)
    return f32(np.repeat(rows[:, None], w, axis=1))


# --- face drawing ------------------------------------------------------------------------------

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_PARTS: dict[str, list[tuple[list[int], float]]] = {
    # landmark chain, stroke width as a fraction of the face width
    "eyelids": [([36, 37, 38, 39], 0.022), ([42, 43, 44, 45], 0.022)],
    "lower_lids": [([39, 40, 41, 36], 0.008), ([45, 46, 47, 42], 0.008)],
    "brows": [([17, 18, 19, 20, 21], 0.03), ([22, 23, 24, 25, 26], 0.03)],
    "mouth": [([60, 61, 62, 63, 64], 0.012)],
    "nose": [([32, 33, 34], 0.01)],
}


def draw_features(image: Float, faces: list[Face], colour: Colour, opacity: float = 1.0,
                  parts: Sequence[str] = ("eyelids", "brows", "mouth"), weight: float = 1.0) -> Float:
    """Ink strokes along landmark chains (``eyelids``, ``lower_lids``, ``brows``, ``mouth``, ``nose``).

    Stroke widths follow each face's width times ``weight``; drawn anti-aliased on a mask of the
    face's box only, then inked over ``image`` in ``colour``.
    """
    out = image
    h, w = image.shape[:2]
    for face in faces:
        pts = np.asarray(face.landmarks, np.float32)
        fw = float(np.hypot(*(pts[16] - pts[0])))
        if fw < 8:
            continue
        left, top = max(0, int(pts[:, 0].min() - 0.1 * fw)), max(0, int(pts[:, 1].min() - 0.2 * fw))
        right = min(w, int(pts[:, 0].max() + 0.1 * fw) + 1)
        bottom = min(h, int(pts[:, 1].max() + 0.1 * fw) + 1)
        if right <= left or bottom <= top:
            continue
        mask = np.zeros((bottom - top, right - left), np.uint8)
        for part in parts:
            for chain, width in _PARTS[part]:
                poly = np.round((pts[chain] - [left, top]) * (1 << _SHIFT)).astype(np.int32)
                thickness = max(1, round(width * weight * fw))
                cv2.polylines(mask, [poly], False, 255, thickness, cv2.LINE_AA, _SHIFT)
        box = (slice(top, bottom), slice(left, right))
        if out is image:
            out = image.copy()
        out[box] = towards(out[box], colour, to_float(mask) * np.float32(opacity))
    return out


def magnify_eyes(image: Float, faces: list[Face], amount: float) -> Float:
    """Enlarge each eye by a smooth local bulge (``amount`` 0.1 = about 10 % at the centre)."""
    out = image
    h, w = image.shape[:2]
    for face in faces:
        pts = np.asarray(face.landmarks, np.float32)
        for eye in (slice(36, 42), slice(42, 48)):
            centre = pts[eye].mean(axis=0)
            radius = 1.3 * float(np.hypot(*(pts[eye][3] - pts[eye][0])))
            if radius < 3:
                continue
            left, top = max(0, int(centre[0] - radius)), max(0, int(centre[1] - radius))
            right, bottom = min(w, int(centre[0] + radius) + 2), min(h, int(centre[1] + radius) + 2)
            if right <= left or bottom <= top:
                continue
            ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32)
            dx, dy = xs - centre[0], ys - centre[1]
            r2 = (dx * dx + dy * dy) / np.float32(radius * radius)
            pull = 1.0 - np.float32(amount) * np.clip(1.0 - r2, 0.0, 1.0) ** 2
            map_x = f32(centre[0] + dx * pull)
            map_y = f32(centre[1] + dy * pull)
            if out is image:
                out = image.copy()
            out[top:bottom, left:right] = f32(cv2.remap(out, map_x, map_y, cv2.INTER_LINEAR,
                                                        borderMode=cv2.BORDER_REFLECT))
    return out


def smooth_skin(image: Float, regions: Regions, sigma: float, amount: float = 1.0, *,
                inplace: bool = False) -> Float:
    """Blur the face's skin (skin mask: face minus features, skin-coloured) by ``sigma``; the
    features and the face outline stay sharp. ``inplace`` as in :func:`in_box`."""
    if regions.masks is None:
        return image
    skin = f32(regions.masks.skin)

    def soften(box: Box) -> Float:
        return mix(image[box], blur(image[box], sigma), skin[box] * np.float32(amount))

    return in_box(regions, image, soften, inplace=inplace)


def soften_face(gray: Float, regions: Regions, sigma: float, amount: float = 1.0) -> Float:
    """``gray`` with skin texture (wrinkles, pores) blurred away on the face, for cleaner face lines."""

    def soften(box: Box) -> Float:
        weights = regions.face[box] * (1.0 - regions.features[box]) * np.float32(amount)
        return mix(gray[box], blur(gray[box], sigma), weights)

    return in_box(regions, gray, soften)


# --- masks -------------------------------------------------------------------------------------


def smoothstep(edge0: float, edge1: float, x: Float) -> Float:
    """0 below ``edge0``, 1 beyond ``edge1`` (either order), a smooth ramp between."""
    t = np.clip((x - np.float32(edge0)) * np.float32(1.0 / (edge1 - edge0)), 0.0, 1.0)
    return f32(t * t * (3.0 - 2.0 * t))


def figure_mask(image: Float, faces: list[Face], radius: float = 0.0) -> Float:
    """Person mask of a (working-size) image without segmentation: :func:`subject_mask`, its
    soft edge snapped to the image's own edges by a guided filter (``radius`` px, default 1/40 of
    the short side). Cheap (a few ms at 512 px); all ones-ish centred ellipse without faces."""
    rough = subject_mask(image.shape, faces, feather=0.15)
    r = max(2, round(radius or min(image.shape[:2]) / 40.0))
    guide = luminance(image)
    snapped = cv2.ximgproc.guidedFilter(guide, rough, r, 4e-3)
    sharp = np.clip((f32(snapped) - 0.5) * 2.5 + 0.5, 0.0, 1.0)
    return f32(blur(f32(sharp), 0.6))


def normal_light(height: Float, sigma: float, depth: float, light: tuple[float, float, float] = (-0.45, -0.55, 0.7),
                 shininess: float = 24.0) -> tuple[Float, Float]:
    """Lambert and Blinn-Phong light on the surface whose height is ``height`` blurred by ``sigma``.

    ``depth`` scales the slopes (bigger = rounder relief). The light (x right, y down, z towards
    the viewer) defaults to the upper left. Returns (diffuse 0..1, 1 on a flat surface facing the
    viewer is ``light[2]`` normalised; specular 0..1)."""
    g = blur(height, sigma)
    k = np.float32(depth * max(sigma, 1.0))
    nx = f32(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)) * -k
    ny = f32(cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)) * -k
    inv = f32(1.0 / np.sqrt(nx * nx + ny * ny + np.float32(1.0)))
    lx, ly, lz = (np.asarray(light, np.float32) / np.float32(np.linalg.norm(light))).tolist()
    diffuse = f32(np.clip((nx * np.float32(lx) + ny * np.float32(ly) + np.float32(lz)) * inv, 0.0, 1.0))
    hx, hy, hz = lx, ly, lz + 1.0
    hn = float(np.sqrt(hx * hx + hy * hy + hz * hz))
    spec = np.clip((nx * np.float32(hx / hn) + ny * np.float32(hy / hn) + np.float32(hz / hn)) * inv, 0.0, 1.0)
    return diffuse, f32(spec ** np.float32(shininess))
