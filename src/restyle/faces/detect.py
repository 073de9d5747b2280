"""Face detection with 68 landmarks: fast staged HOG search, optional MMOD CNN, region re-detection."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from restyle.errors import ImageError, InvalidParameter
from restyle.faces import models
from restyle.faces.types import Face

Box = tuple[int, int, int, int]
_Hit = tuple[tuple[float, float, float, float], float]  # (left, top, right, bottom), score

DETECT_LONG_SIDE = 1000  # stage 1: detection copy, no upsampling
MIN_FACE = 60  # smallest face (px) the automatic strategy aims to find
_DETECTOR_WINDOW = 80  # smallest face dlib's detectors see without upsampling
# HOG also fires on badges, prints and patterns, at scores of about 0-0.2, where clear faces score
# 1-2 but small or dim real ones may score 0.2 too: a hit under this score, other than the best,
# needs a second opinion from OpenCV's Haar cascade.
_PAD_LONG_SIDE = 360  # stage 3: full-frame faces, downscaled then padded
_REGION_FACE_WIDTH = 140  # detect_face_in_region scales the region so the face is about this wide
WEAK_HIT_SCORE = 0.3
_CONFIRM_FACE_WIDTH = 100  # the Haar check sees the region scaled so the face is about this wide


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


def _resized(image: np.ndarray, scale: float) -> np.ndarray:
    if abs(scale - 1.0) < 1e-6:
        return image
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=interp))


def _runner(detector: str) -> Callable[[np.ndarray, int], list[_Hit]]:
    if detector == "hog":
        hog = models.hog_detector()

        def run_hog(img: np.ndarray, upsample: int) -> list[_Hit]:
            rects, scores, _ = hog.run(img, upsample, 0.0)
            return [
                ((r.left(), r.top(), r.right(), r.bottom()), float(s))
                for r, s in zip(rects, scores, strict=True)
            ]

        return run_hog
    if detector == "cnn":
        cnn = models.cnn_detector()

        def run_cnn(img: np.ndarray, upsample: int) -> list[_Hit]:
            with models.cnn_lock:
                found = cnn(img, upsample)
            return [
                ((d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()), float(d.confidence))
                for d in found
            ]

        return run_cnn
    raise InvalidParameter(f"The face detector must be 'hog' or 'cnn', not {detector!r}.", param="detector")


def _scaled_hits(
    run: Callable[[np.ndarray, int], list[_Hit]],
    image: np.ndarray,
    scale: float,
    upsample: int,
    pad: float = 0.0,
) -> list[_Hit]:
    """Run on ``image`` resized by ``scale`` (and padded by ``pad`` of its size), in input pixels."""
    small = _resized(image, scale)
    border = 0
    if pad > 0:
        border = int(round(max(small.shape[:2]) * pad))
        fill = [int(v) for v in small.reshape(-1, 3).mean(axis=0)]
        small = cv2.copyMakeBorder(small, border, border, border, border, cv2.BORDER_CONSTANT, value=fill)
    hits = run(small, upsample)
    return [(tuple((v - border) / scale for v in box), s) for box, s in hits]  # type: ignore[misc]


def _find(
    run: Callable[[np.ndarray, int], list[_Hit]], image: np.ndarray, upsample: int | None
) -> list[_Hit]:
    """The staged search: downscaled copy, then upsampled copy for small faces, then padded copy."""
    long_side = max(image.shape[:2])
    scale1 = min(1.0, DETECT_LONG_SIDE / long_side)
    # 1. downscaled copy, no upsampling (or the caller's upsampling, then stop).
    hits = _scaled_hits(run, image, scale1, upsample or 0)
    if hits or upsample is not None:
        return hits
    # 2. small faces: one upsample on a copy where a MIN_FACE face reaches the detector window
    # (no cap on big photos: slower, about 2 s on 12 MP, but a 60 px face is still found).
    scale2 = min(1.0, _DETECTOR_WINDOW / (2.0 * MIN_FACE))
    hits = _scaled_hits(run, image, scale2, 1)
    if hits:
        return hits
    # 3. full-frame faces touching the borders: a small copy padded with a flat border.
    return _scaled_hits(run, image, min(1.0, _PAD_LONG_SIDE / long_side), 0, pad=0.3)


def _shape(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    import dlib

    rect = dlib.rectangle(*(int(round(v)) for v in box))
    shape = models.shape_predictor()(image, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def _clip_box(box: tuple[float, float, float, float], shape: tuple[int, ...]) -> Box:
    h, w = shape[:2]
    left, top, right, bottom = (int(round(v)) for v in box)
    return max(0, left), max(0, top), min(w, right), min(h, bottom)


def _main_face_score(face: Face, shape: tuple[int, ...]) -> float:
    """Large, central and confidently detected faces first."""
    h, w = shape[:2]
    cx, cy = face.center
    dist = math.hypot(cx - w / 2.0, cy - h / 2.0) / max(math.hypot(w / 2.0, h / 2.0), 1.0)
    confidence = 0.5 + 0.5 * min(1.0, max(face.score, 0.0))
    return float(face.width * face.height) * (1.0 - 0.5 * min(dist, 1.0)) * confidence


def _confirmed_by_haar(image: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """Whether the Haar cascade also finds a face in ``box``'s neighbourhood."""
    left, top, right, bottom = (int(round(v)) for v in box)
    width = max(right - left, 1)
    margin = width // 2
    h, w = image.shape[:2]
    region = image[max(0, top - margin) : min(h, bottom + margin), max(0, left - margin) : min(w, right + margin)]
    if region.size == 0:
        return False
    gray = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY)
    gray = _resized(gray, _CONFIRM_FACE_WIDTH / width)
    side = int(0.4 * _CONFIRM_FACE_WIDTH)
    with models.haar_lock:
        found = models.haar_cascade().detectMultiScale(gray, 1.1, 3, minSize=(side, side))
    return len(found) > 0


def _drop_false_hits(image: np.ndarray, hits: list[_Hit]) -> list[_Hit]:
    """The best hit, and every other one that is strong or that the Haar cascade confirms."""
    if len(hits) < 2:
        return hits
    best = max(hits, key=lambda hit: hit[1])
    return [
        hit for hit in hits if hit is best or hit[1] >= WEAK_HIT_SCORE or _confirmed_by_haar(image, hit[0])
    ]


def detect_faces(
    image: np.ndarray, *, detector: str = "hog", upsample: int | None = None, max_faces: int = 8
) -> list[Face]:
    """Faces of ``image`` (RGB uint8) with 68 landmarks, the main (largest, most central) first.

    With ``upsample=None`` a staged search finds faces from about 60 px wide up to full frame;
    an explicit ``upsample`` runs a single pass with that many upsamplings on the detection copy.
    """
    if max_faces < 1:
        return []
    rgb = as_rgb(image)
    hits = _drop_false_hits(rgb, _find(_runner(detector), rgb, upsample))
    faces = [
        Face(box=_clip_box(box, rgb.shape), landmarks=_shape(rgb, box), score=score) for box, score in hits
    ]
    faces.sort(key=lambda f: _main_face_score(f, rgb.shape), reverse=True)
    return faces[:max_faces]


def box_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (left, top, right, bottom) boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def detect_face_in_region(image: np.ndarray, box: Box, *, margin: float = 0.5) -> Face | None:
    """Re-detect the face near ``box`` only inside ``box`` enlarged by ``margin`` of its size per side.

    Fast: the region is resized so the face is about 140 px wide. Returns the detection that
    overlaps ``box`` most, with landmarks on the full image, or None when there is none.
    """
    rgb = as_rgb(image)
    h, w = rgb.shape[:2]
    left, top, right, bottom = box
    bw, bh = max(right - left, 1), max(bottom - top, 1)
    x0, y0 = max(0, int(left - margin * bw)), max(0, int(top - margin * bh))
    x1, y1 = min(w, int(right + margin * bw)), min(h, int(bottom + margin * bh))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    region = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    scale = float(np.clip(_REGION_FACE_WIDTH / bw, 0.05, 4.0))
    run = _runner("hog")
    hits = _scaled_hits(run, region, scale, 0) or _scaled_hits(run, region, scale, 0, pad=0.3)
    hits = [((b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0), s) for b, s in hits]
    best = max(hits, key=lambda hit: box_overlap(hit[0], tuple(map(float, box))), default=None)
    if best is None or box_overlap(best[0], tuple(map(float, box))) < 0.2:
        return None
    return Face(box=_clip_box(best[0], rgb.shape), landmarks=_shape(rgb, best[0]), score=best[1])


def landmarks_for_box(image: np.ndarray, box: Box) -> Face:
    """The 68 landmarks predicted inside ``box`` without running a detector (score 0)."""
    rgb = as_rgb(image)
    fbox = tuple(float(v) for v in box)
    return Face(box=tuple(int(v) for v in box), landmarks=_shape(rgb, fbox), score=0.0)  # type: ignore[arg-type]
