"""Face detection with 68 landmarks: the ``auto`` cascade (default), HOG or CNN alone, region re-detection."""

from __future__ import annotations

import math

import cv2
import numpy as np

from restyle.errors import InvalidParameter
from restyle.faces import cascade, models
from restyle.faces.hits import (
    Box,
    FloatBox,
    Hit,
    Runner,
    as_rgb,
    box_overlap,
    clip_box,
    hog_runner,
    region,
    resized,
    runner,
    scaled_hits,
)
from restyle.faces.types import Face

__all__ = ["DETECTORS", "as_rgb", "box_overlap", "detect_face_in_region", "detect_faces", "landmarks_for_box"]

DETECTORS = ("auto", "hog", "cnn")
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


def _find(
    run: Runner, image: np.ndarray, upsample: int | None
) -> list[Hit]:
    """The staged search: downscaled copy, then upsampled copy for small faces, then padded copy."""
    long_side = max(image.shape[:2])
    scale1 = min(1.0, DETECT_LONG_SIDE / long_side)
    # 1. downscaled copy, no upsampling (or the caller's upsampling, then stop).
    hits = scaled_hits(run, image, scale1, upsample or 0)
    if hits or upsample is not None:
        return hits
    # 2. small faces: one upsample on a copy where a MIN_FACE face reaches the detector window
    # (no cap on big photos: slower, about 2 s on 12 MP, but a 60 px face is still found).
    scale2 = min(1.0, _DETECTOR_WINDOW / (2.0 * MIN_FACE))
    hits = scaled_hits(run, image, scale2, 1)
    if hits:
        return hits
    # 3. full-frame faces touching the borders: a small copy padded with a flat border.
    return scaled_hits(run, image, min(1.0, _PAD_LONG_SIDE / long_side), 0, pad=0.3)


def _shape(image: np.ndarray, box: FloatBox) -> np.ndarray:
    import dlib

    rect = dlib.rectangle(*(int(round(v)) for v in box))
    shape = models.shape_predictor()(image, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def _tilted_shape(image: np.ndarray, box: FloatBox, angle: float) -> np.ndarray:
    """Landmarks of a face found upright in the image turned by ``angle``, in ``image`` coordinates."""
    crop, x0, y0 = region(image, box, 0.6)
    centre = ((box[0] + box[2]) / 2.0 - x0, (box[1] + box[3]) / 2.0 - y0)
    turn = cv2.getRotationMatrix2D(centre, angle, 1.0)
    upright = cv2.warpAffine(crop, turn, (crop.shape[1], crop.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    local = (box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0)
    points = _shape(np.ascontiguousarray(upright), local)
    back = cv2.invertAffineTransform(turn)
    mapped = points @ back[:, :2].T + back[:, 2]
    return (mapped + np.array([x0, y0], np.float32)).astype(np.float32)


def _main_face_score(face: Face, shape: tuple[int, ...]) -> float:
    """Large, central and confidently detected faces first."""
    h, w = shape[:2]
    cx, cy = face.center
    dist = math.hypot(cx - w / 2.0, cy - h / 2.0) / max(math.hypot(w / 2.0, h / 2.0), 1.0)
    confidence = 0.5 + 0.5 * min(1.0, max(face.score, 0.0))
    return float(face.width * face.height) * (1.0 - 0.5 * min(dist, 1.0)) * confidence


def _confirmed_by_haar(image: np.ndarray, box: FloatBox) -> bool:
    """Whether the Haar cascade also finds a face in ``box``'s neighbourhood (the ``hog`` strategy)."""
    left, top, right, bottom = (int(round(v)) for v in box)
    width = max(right - left, 1)
    crop, _, _ = region(image, box, 0.5)
    if crop.size == 0:
        return False
    gray = resized(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), _CONFIRM_FACE_WIDTH / width)
    side = int(0.4 * _CONFIRM_FACE_WIDTH)
    with models.haar_lock:
        found = models.haar_cascade().detectMultiScale(gray, 1.1, 3, minSize=(side, side))
    return len(found) > 0


def _drop_false_hits(image: np.ndarray, hits: list[Hit]) -> list[Hit]:
    """The best hit, and every other one that is strong or that the Haar cascade confirms."""
    if len(hits) < 2:
        return hits
    best = max(hits, key=lambda hit: hit[1])
    return [
        hit for hit in hits if hit is best or hit[1] >= WEAK_HIT_SCORE or _confirmed_by_haar(image, hit[0])
    ]


def _auto_faces(rgb: np.ndarray) -> list[Face]:
    faces = []
    for cand in cascade.detect(rgb):
        landmarks = _tilted_shape(rgb, cand.box, cand.angle) if cand.angle else _shape(rgb, cand.box)
        faces.append(Face(box=clip_box(cand.box, rgb.shape), landmarks=landmarks, score=cand.score))
    return faces


def detect_faces(
    image: np.ndarray, *, detector: str = "auto", upsample: int | None = None, max_faces: int = 10
) -> list[Face]:
    """Faces of ``image`` (RGB uint8) with 68 landmarks, the main (largest, most central) first.

    ``detector``: ``auto`` (default) runs the cascade of ``restyle.faces.cascade`` (HOG candidates,
    tilted copies, Haar and CNN second opinions), for faces from about 60 px; ``hog`` and ``cnn``
    run that detector alone in a staged search: with ``upsample=None`` a downscaled copy, then an
    upsampled one, then a padded one until something is found; an explicit ``upsample`` runs a single
    pass with that many upsamplings (``auto`` ignores it).
    """
    if detector not in DETECTORS:
        raise InvalidParameter(
            f"The face detector must be one of {', '.join(DETECTORS)}, not {detector!r}.", param="detector"
        )
    if max_faces < 1:
        return []
    rgb = as_rgb(image)
    if detector == "auto" and upsample is None:
        faces = _auto_faces(rgb)
    else:
        run = runner("hog" if detector == "auto" else detector)
        hits = _drop_false_hits(rgb, _find(run, rgb, upsample))
        faces = [Face(box=clip_box(box, rgb.shape), landmarks=_shape(rgb, box), score=score) for box, score in hits]
    faces.sort(key=lambda f: _main_face_score(f, rgb.shape), reverse=True)
    return faces[:max_faces]


def _region_hits(crop: np.ndarray, scale: float, threshold: float, angle: float) -> list[Hit]:
    """HOG hits in ``crop`` (scaled by ``scale``), in crop pixels; turned by ``angle`` when non-zero."""
    run = hog_runner(threshold)
    if not angle:
        return scaled_hits(run, crop, scale, 0) or scaled_hits(run, crop, scale, 0, pad=0.3)
    small = resized(crop, scale)
    turn = cascade.rotation(small.shape, angle)
    turned = cv2.warpAffine(small, turn, (small.shape[1], small.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    back = cv2.invertAffineTransform(turn)
    hits: list[Hit] = []
    for (left, top, right, bottom), score in run(np.ascontiguousarray(turned), 0):
        cx, cy = back @ np.array([(left + right) / 2.0, (top + bottom) / 2.0, 1.0])
        half = (right - left) / 2.0
        hits.append((((cx - half) / scale, (cy - half) / scale, (cx + half) / scale, (cy + half) / scale), score))
    return hits


def detect_face_in_region(
    image: np.ndarray, box: Box, *, margin: float = 0.5, threshold: float = 0.0
) -> Face | None:
    """Re-detect the face near ``box`` only inside ``box`` enlarged by ``margin`` of its size per side.

    Fast (HOG on the region resized so the face is about 140 px wide, then on copies turned by
    +-25 degrees when the upright one finds nothing). ``threshold`` is the HOG score a hit needs.
    Returns the detection that overlaps ``box`` most, with landmarks on the full image, or None.
    """
    rgb = as_rgb(image)
    fbox: FloatBox = tuple(float(v) for v in box)  # type: ignore[assignment]
    bw = max(box[2] - box[0], 1)
    crop, x0, y0 = region(rgb, fbox, margin)
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        return None
    scale = float(np.clip(_REGION_FACE_WIDTH / bw, 0.05, 4.0))
    for angle in (0.0, *cascade.TILT_DEGREES):
        hits = [((b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0), s) for b, s in _region_hits(crop, scale, threshold, angle)]
        best = max(hits, key=lambda hit: box_overlap(hit[0], fbox), default=None)
        if best is not None and box_overlap(best[0], fbox) >= 0.2:
            landmarks = _tilted_shape(rgb, best[0], angle) if angle else _shape(rgb, best[0])
            return Face(box=clip_box(best[0], rgb.shape), landmarks=landmarks, score=best[1])
    return None


def landmarks_for_box(image: np.ndarray, box: Box) -> Face:
    """The 68 landmarks predicted inside ``box`` without running a detector (score 0)."""
    rgb = as_rgb(image)
    fbox = tuple(float(v) for v in box)
    return Face(box=tuple(int(v) for v in box), landmarks=_shape(rgb, fbox), score=0.0)  # type: ignore[arg-type]
