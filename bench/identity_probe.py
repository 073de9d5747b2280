"""Identity at each labelled face's place, measured as a sceptic would (issue 10, item 2).

The probe is independent of the pipeline's own detection cascade: it cuts a window around the
labelled box, scales it so the face is about :data:`FACE_PX` pixels wide (that is the upsampling),
and runs dlib's MMOD CNN detector and the HOG detector (upsampled once more) on it. The detection
that overlaps the labelled box (IoU >= 0.3, or centres closer than 0.4 face widths) gives the
landmarks (68 points) and the 128-d embedding, from that image only: the input's landmarks are never
reused on the output.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

Box = tuple[int, int, int, int]

FACE_PX = 130  # face width in the scaled window: above the MMOD detector's ~80 px floor
MARGIN = 0.6  # window margin around the labelled box, in face widths
MIN_IOU = 0.3
MAX_CENTRE_SHIFT = 0.4  # in face widths


@functools.cache
def _models() -> tuple[Any, Any, Any, Any]:
    import dlib

    # only the model files' location comes from the project: the probe keeps its own instances
    from restyle.faces.models import MMOD, RESNET, SHAPE_68, model_path

    return (
        dlib.cnn_face_detection_model_v1(model_path(MMOD)),
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(model_path(SHAPE_68)),
        dlib.face_recognition_model_v1(model_path(RESNET)),
    )


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (left, top, right, bottom) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def matches(found: Box, labelled: Box) -> bool:
    """Whether a detection is the labelled face: enough overlap, or nearly the same centre."""
    if iou(found, labelled) >= MIN_IOU:
        return True
    width = labelled[2] - labelled[0]
    fx, fy = (found[0] + found[2]) / 2, (found[1] + found[3]) / 2
    lx, ly = (labelled[0] + labelled[2]) / 2, (labelled[1] + labelled[3]) / 2
    return bool(np.hypot(fx - lx, fy - ly) <= MAX_CENTRE_SHIFT * width)


@dataclass
class Probe:
    """What the probe found at one labelled face's place."""

    detected: bool
    box: Box | None  # the matched detection, in image pixels
    detector: str | None  # "cnn" or "hog"
    embedding: np.ndarray | None


def _window(image: np.ndarray, box: Box) -> tuple[np.ndarray, int, int, float]:
    h, w = image.shape[:2]
    size = max(box[2] - box[0], box[3] - box[1], 1)
    pad = round(MARGIN * size)
    left, top = max(0, box[0] - pad), max(0, box[1] - pad)
    right, bottom = min(w, box[2] + pad), min(h, box[3] + pad)
    scale = FACE_PX / size
    crop = np.ascontiguousarray(image[top:bottom, left:right])
    size_out = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(crop, size_out, interpolation=interpolation), left, top, scale


def _to_image(rect: Any, left: int, top: int, scale: float) -> Box:
    return (
        round(rect.left() / scale) + left,
        round(rect.top() / scale) + top,
        round(rect.right() / scale) + left,
        round(rect.bottom() / scale) + top,
    )


def probe(image: np.ndarray, labelled: Box, *, fallback_to_label: bool = False) -> Probe:
    """Detect the face at ``labelled`` in ``image`` (RGB uint8) and embed it.

    1. cut and scale the window; 2. CNN detections, then HOG ones (upsampled once); 3. keep the
    best-overlapping one that :func:`matches` the label; 4. landmarks and embedding from it. With
    ``fallback_to_label`` (for the input photos only) an undetected face is embedded from the
    labelled box itself, so every labelled face has a reference embedding.
    """
    import dlib

    cnn, hog, predictor, recognizer = _models()
    window, left, top, scale = _window(image, labelled)
    candidates: list[tuple[str, Any]] = [("cnn", d.rect) for d in cnn(window, 0)]
    candidates += [("hog", r) for r in hog(window, 1)]
    best: tuple[float, str, Any, Box] | None = None
    for name, rect in candidates:
        box = _to_image(rect, left, top, scale)
        if matches(box, labelled):
            score = iou(box, labelled)
            if best is None or score > best[0]:
                best = (score, name, rect, box)
    if best is None and not fallback_to_label:
        return Probe(False, None, None, None)
    if best is None:
        rect = dlib.rectangle(
            round((labelled[0] - left) * scale), round((labelled[1] - top) * scale),
            round((labelled[2] - left) * scale), round((labelled[3] - top) * scale),
        )
        found, name, box = False, "label", labelled
    else:
        _, name, rect, box = best
        found = True
    shape = predictor(window, rect)
    embedding = np.asarray(recognizer.compute_face_descriptor(window, shape), dtype=np.float64)
    return Probe(found, box, name, embedding)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two dlib embeddings (< 0.6 = same person by dlib's standard)."""
    return float(np.linalg.norm(a - b))


def rank1(embedding: np.ndarray, own: str, gallery: dict[str, list[np.ndarray]]) -> bool:
    """Whether ``embedding`` is nearer to ``own`` than to every other identity of ``gallery``."""
    nearest = {person: min(distance(embedding, e) for e in embs) for person, embs in gallery.items() if embs}
    return min(nearest, key=lambda p: nearest[p]) == own
