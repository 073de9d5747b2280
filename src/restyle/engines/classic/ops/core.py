"""Conversions, OpenCV-backed arithmetic, blurs and working resolution."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

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


