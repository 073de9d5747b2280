"""Small faces drawn on an enlarged copy: a face a few dozen pixels wide has too few pixels for a
preset's face drawing (cel skin tones, eyes, lines), so the preset renders a copy enlarged until the
smallest face is about ``FACE_WIDTH`` wide and the result is reduced back (area filter). Kernel
sizes follow ``RenderContext.scale``, so the look stays that of the whole picture; only the faces
gain pixels. Bounded by ``MAX_PIXELS`` so a big photo with a small face costs nothing extra.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from restyle.faces.types import Face

FACE_WIDTH = 120.0  # px: smaller faces are drawn on an enlarged copy
MAX_FACTOR = 2.0
MAX_PIXELS = 1_000_000  # the enlarged copy stays within this
MIN_FACTOR = 1.25  # a smaller enlargement is not worth its cost


def factor(shape: tuple[int, ...], faces: list[Face]) -> float:
    """How much to enlarge an image of ``shape`` with ``faces`` before rendering (1.0: not at all)."""
    widths = [f.width for f in faces if f.width > 0]
    if not widths:
        return 1.0
    h, w = int(shape[0]), int(shape[1])
    wanted = min(MAX_FACTOR, FACE_WIDTH / min(widths), math.sqrt(MAX_PIXELS / max(h * w, 1)))
    return wanted if wanted >= MIN_FACTOR else 1.0


def enlarge(image: np.ndarray, faces: list[Face], by: float) -> tuple[np.ndarray, list[Face]]:
    """``image`` (RGB uint8) and ``faces`` enlarged ``by`` times (bicubic)."""
    h, w = image.shape[:2]
    size = (max(1, round(w * by)), max(1, round(h * by)))
    big = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC), np.uint8)
    sx, sy = size[0] / w, size[1] / h
    return big, [f.transformed(math.sqrt(sx * sy), 0.0, 0.0) for f in faces]


def reduce(image: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``image`` reduced to the height and width of ``shape`` (area filter)."""
    h, w = int(shape[0]), int(shape[1])
    if image.shape[:2] == (h, w):
        return image
    return np.asarray(cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA), np.uint8)
