"""Second opinions on a weak face candidate: OpenCV's Haar cascades, then dlib's CNN, in its neighbourhood."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from restyle.faces import models
from restyle.faces.hits import FloatBox, box_overlap, cnn_runner, region, resized, scaled_hits

FRONTAL_CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml")
NEEDED_VOTES = 2  # one cascade alone also fires on badges and prints
PROFILE_CASCADE = "haarcascade_profileface.xml"
_HAAR_FACE_WIDTH = 80  # the cascades see the region scaled so the candidate is about this wide
CNN_FACE_WIDTH = 72  # the CNN sees faces from about 60 px: the region is scaled so the candidate is this wide


def _agrees(found: FloatBox, box: FloatBox) -> bool:
    """Whether ``found`` is the same face as ``box``: centre inside its middle and a similar size."""
    width = box[2] - box[0]
    fx, fy = (found[0] + found[2]) / 2.0, (found[1] + found[3]) / 2.0
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    size_ratio = (found[2] - found[0]) / max(width, 1.0)
    return abs(fx - cx) < 0.3 * width and abs(fy - cy) < 0.3 * width and 0.5 < size_ratio < 2.0


def _cascade_boxes(name: str, gray: np.ndarray) -> list[FloatBox]:
    """Faces of about the candidate's size only: a few scales, so a check costs a few ms."""
    cascade, lock = models.cv_cascade(name)
    low, high = int(0.65 * _HAAR_FACE_WIDTH), int(1.5 * _HAAR_FACE_WIDTH)
    with lock:
        found = cascade.detectMultiScale(gray, 1.12, 3, minSize=(low, low), maxSize=(high, high))
    return [(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in found]


def haar_agrees(image: np.ndarray, box: FloatBox, angle: float = 0.0, turned: bool = False) -> bool:
    """Whether two of the Haar cascades (frontal, frontal alt2, profile, mirrored profile) find ``box``'s face.

    ``angle`` (degrees): the face is upright in the image turned by that much about the box centre;
    ``turned``: HOG saw a three-quarter view, so the profile cascades are asked first. The check
    stops as soon as the answer is known (two noes of four already mean no).
    """
    crop, x0, y0 = region(image, box, 0.35)
    if crop.size == 0:
        return False
    scale = _HAAR_FACE_WIDTH / max(box[2] - box[0], 1.0)
    gray = resized(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), scale)
    gray = cv2.equalizeHist(gray)  # low-contrast and faded photos
    local: FloatBox = tuple((v - o) * scale for v, o in zip(box, (x0, y0, x0, y0), strict=True))  # type: ignore[assignment]
    if angle:
        centre = ((local[0] + local[2]) / 2.0, (local[1] + local[3]) / 2.0)
        turn = cv2.getRotationMatrix2D(centre, angle, 1.0)
        gray = cv2.warpAffine(gray, turn, (gray.shape[1], gray.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    width = gray.shape[1]
    mirrored = np.ascontiguousarray(gray[:, ::-1])
    opinions: list[Callable[[], list[FloatBox]]] = [
        lambda: _cascade_boxes(FRONTAL_CASCADES[0], gray),
        lambda: _cascade_boxes(FRONTAL_CASCADES[1], gray),
        lambda: _cascade_boxes(PROFILE_CASCADE, gray),
        lambda: [(width - b[2], b[1], width - b[0], b[3]) for b in _cascade_boxes(PROFILE_CASCADE, mirrored)],
    ]
    if turned:  # a three-quarter view: the profile cascades first
        opinions = [opinions[2], opinions[3], opinions[0], opinions[1]]
    votes = 0
    for asked, opinion in enumerate(opinions):
        votes += any(_agrees(found, local) for found in opinion())
        if votes >= NEEDED_VOTES:
            return True
        if asked + 1 - votes >= len(opinions) - NEEDED_VOTES + 1:  # too many noes already
            return False
    return False


def cnn_agrees(image: np.ndarray, box: FloatBox) -> float | None:
    """The CNN's confidence in the same face as ``box``, or None (about 60-90 ms per candidate)."""
    crop, x0, y0 = region(image, box, 0.35)
    if crop.size == 0:
        return None
    scale = min(1.0, CNN_FACE_WIDTH / max(box[2] - box[0], 1.0))
    hits = scaled_hits(cnn_runner(), crop, scale, 0)
    shifted = [((b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0), s) for b, s in hits]
    matching = [s for b, s in shifted if box_overlap(b, box) >= 0.25 or _agrees(b, box)]
    return max(matching) if matching else None
