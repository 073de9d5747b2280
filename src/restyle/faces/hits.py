"""Detector runs shared by the detection strategies: input checks, scaled and padded runs, box overlap."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from restyle.errors import ImageError, InvalidParameter
from restyle.faces import models

Box = tuple[int, int, int, int]
FloatBox = tuple[float, float, float, float]  # left, top, right, bottom
Hit = tuple[FloatBox, float]  # box, detector score
Runner = Callable[[np.ndarray, int], list[Hit]]


def as_rgb(image: np.ndarray) -> np.ndarray:
    """``image`` as a C-contiguous RGB uint8 array (grey is expanded, alpha dropped)."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or image.size == 0:
        raise ImageError("The image must be a non-empty 8-bit RGB array for face detection.")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.shape[2] == 4:
        image = image[:, :, :3]
    elif image.shape[2] != 3:
        raise ImageError("The image must have 3 colour channels (RGB) for face detection.")
    return np.ascontiguousarray(image)


def resized(image: np.ndarray, scale: float) -> np.ndarray:
    """``image`` scaled by ``scale`` (area filter when shrinking), or itself at scale 1."""
    if abs(scale - 1.0) < 1e-6:
        return image
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=interp))


def hog_runner(threshold: float = 0.0) -> Runner:
    """dlib's HOG detector, keeping hits that score at least ``threshold`` (its own cut is 0)."""
    hog = models.hog_detector()

    def run_hog(img: np.ndarray, upsample: int) -> list[Hit]:
        rects, scores, _ = hog.run(img, upsample, threshold)
        return [
            ((r.left(), r.top(), r.right(), r.bottom()), float(s)) for r, s in zip(rects, scores, strict=True)
        ]

    return run_hog


def cnn_runner() -> Runner:
    """dlib's MMOD CNN detector (slow on CPU: about 14 us per pixel here; faces from about 60 px)."""
    cnn = models.cnn_detector()

    def run_cnn(img: np.ndarray, upsample: int) -> list[Hit]:
        with models.cnn_lock:
            found = cnn(img, upsample)
        return [((d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()), float(d.confidence)) for d in found]

    return run_cnn


def runner(detector: str) -> Runner:
    """The runner of a single-detector strategy, ``hog`` or ``cnn``."""
    if detector == "hog":
        return hog_runner()
    if detector == "cnn":
        return cnn_runner()
    raise InvalidParameter(
        f"The face detector must be 'auto', 'hog' or 'cnn', not {detector!r}.", param="detector"
    )


def prepared(image: np.ndarray, scale: float, pad: float = 0.0) -> tuple[np.ndarray, int]:
    """``image`` resized by ``scale`` and padded by ``pad`` of its size (a flat mean border), and the border."""
    small = resized(image, scale)
    border = 0
    if pad > 0:
        border = int(round(max(small.shape[:2]) * pad))
        fill = [int(v) for v in small.reshape(-1, small.shape[2] if small.ndim == 3 else 1).mean(axis=0)]
        small = cv2.copyMakeBorder(small, border, border, border, border, cv2.BORDER_CONSTANT, value=fill)
    return np.ascontiguousarray(small), border


def scaled_hits(run: Runner, image: np.ndarray, scale: float, upsample: int, pad: float = 0.0) -> list[Hit]:
    """Run on ``image`` resized by ``scale`` (and padded by ``pad`` of its size), in input pixels."""
    small, border = prepared(image, scale, pad)
    hits = run(small, upsample)
    return [(tuple((v - border) / scale for v in box), s) for box, s in hits]  # type: ignore[misc]


def hog_views(image: np.ndarray, scale: float, upsample: int, threshold: float, pad: float = 0.0
              ) -> list[tuple[FloatBox, float, int]]:
    """HOG hits as in :func:`scaled_hits`, each with the index of the filter that fired (dlib's
    frontal detector has five: 0 frontal, 1 and 2 turned left and right, 3 and 4 frontal but tilted)."""
    small, border = prepared(image, scale, pad)
    rects, scores, views = models.hog_detector().run(small, upsample, threshold)
    return [
        (tuple((v - border) / scale for v in (r.left(), r.top(), r.right(), r.bottom())), float(s), int(i))
        for r, s, i in zip(rects, scores, views, strict=True)
    ]


def box_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (left, top, right, bottom) boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def clip_box(box: FloatBox, shape: tuple[int, ...]) -> Box:
    """``box`` rounded and clipped to an image of ``shape``."""
    h, w = shape[:2]
    left, top, right, bottom = (int(round(v)) for v in box)
    return max(0, left), max(0, top), min(w, right), min(h, bottom)


def region(image: np.ndarray, box: FloatBox, margin: float) -> tuple[np.ndarray, int, int]:
    """The crop of ``box`` grown by ``margin`` of its width per side, and the crop's offset."""
    left, top, right, bottom = box
    grow = margin * max(right - left, 1.0)
    h, w = image.shape[:2]
    x0, y0 = max(0, int(left - grow)), max(0, int(top - grow))
    x1, y1 = min(w, int(right + grow)), min(h, int(bottom + grow))
    return np.ascontiguousarray(image[y0:y1, x0:x1]), x0, y0
