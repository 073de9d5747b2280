"""The ``auto`` face detector: HOG candidates on a downscaled copy, tilted copies, second opinions, NMS.

Steps, each with a bounded cost (on a 1 MP portrait the whole call takes about 55-75 ms CPU here,
less than the old HOG path; see bench/reports/face_speed.md):

1. a grey working copy (HOG on grey costs a quarter less than on RGB), contrast-stretched when the
   photo is faded or low in contrast (archival scans);
2. HOG on a copy of at most 640 px, keeping candidates down to ``CANDIDATE_SCORE`` (three-quarter
   views and faces with glasses often score just under dlib's own cut of 0);
3. finer passes (1000 px, then upsampled for 60 px faces) only when nothing clear was found or
   the faces found are near the smallest size the pass sees; the costly upsampled pass after a
   clear find only for a group (``GROUP`` faces: smaller faces are likely);
4. HOG on one small copy turned by +-``TILT_DEGREES`` (heads tilted sideways), a bigger copy when
   nothing clear was found upright;
5. a padded copy for a face that fills the frame, when nothing clear was found;
6. non-maximum suppression across all passes, then each candidate that is not clear is kept only
   when two Haar cascades (frontal, profile) agree or, for at most ``MAX_CNN_CHECKS`` turned
   views, dlib's CNN does (about 60-150 ms a look on this CPU);
7. when nothing at all is left, dlib's CNN on a small copy (big faces HOG cannot see, ~0.3 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from restyle.faces.hits import FloatBox, box_overlap, cnn_runner, hog_runner, hog_views, resized, scaled_hits
from restyle.faces.verify import cnn_agrees, haar_agrees

FIRST_LONG_SIDES = (640, 1000)  # the coarse upright passes
MIN_FACE = 60
DETECTOR_WINDOW = 80  # smallest face dlib's HOG sees without upsampling
CANDIDATE_SCORE = -0.45  # turned (three-quarter) views
FRONTAL_SCORE = -0.15  # frontal views: HOG is better at them, so weak ones are rarer faces
CLEAR_SCORE = 0.3  # at least this, a HOG hit needs no second opinion
TILT_DEGREES = (-25.0, 25.0)
TILT_LONG_SIDE = 320
TILT_MIN_FACE = 150  # without a clear upright face, the tilted copies keep 150 px faces
PAD_LONG_SIDE = 360
GROUP = 3  # this many clear faces near a pass's smallest size make smaller faces likely
MAX_CHECKS = 16  # weak candidates given a Haar opinion, strongest first
MAX_CNN_CHECKS = 2  # of those the Haar cascades reject, how many the CNN looks at
CNN_MIN_SCORE = -0.3  # the CNN is asked only about candidates at least this strong
TURNED_VIEWS = (1, 2)
CNN_FALLBACK_LONG_SIDE = 288
CNN_FALLBACK_SCORE = 0.2
_LOW_CONTRAST = 90  # grey-level spread (2nd to 98th percentile) under which the copy is stretched


@dataclass
class Candidate:
    """A face candidate: its upright box in input pixels, HOG score, and the tilt it was found at."""

    box: FloatBox
    score: float
    angle: float = 0.0
    view: int = 0  # the HOG filter that fired: 1 and 2 are the turned (three-quarter) views


def working_copy(rgb: np.ndarray) -> np.ndarray:
    """The grey copy the passes run on (HOG on grey costs a quarter less than on RGB), with its
    contrast stretched (CLAHE) when its tones are compressed (faded or low-contrast photos)."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    low, high = np.percentile(gray[:: max(1, gray.shape[0] // 256), :: max(1, gray.shape[1] // 256)], (2, 98))
    if high - low < _LOW_CONTRAST:
        gray = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray)
    return np.ascontiguousarray(gray)


def rotation(shape: tuple[int, ...], angle: float, scale: float = 1.0) -> np.ndarray:
    """The 2x3 matrix turning an image of ``shape`` by ``angle`` degrees about its centre (and scaling)."""
    h, w = shape[:2]
    return cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, scale)


def _tilted(small: np.ndarray, scale: float, angle: float) -> list[Candidate]:
    """Clear HOG hits on ``small`` (the input scaled by ``scale``) turned by ``angle``, in input pixels.

    Turned upright, a real tilted face scores clearly; weak hits on turned copies are patterns."""
    turned = cv2.warpAffine(small, rotation(small.shape, angle), (small.shape[1], small.shape[0]),
                            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    back = cv2.invertAffineTransform(rotation(small.shape, angle))
    found = []
    for (left, top, right, bottom), score in hog_runner(CLEAR_SCORE)(np.ascontiguousarray(turned), 0):
        cx, cy = (left + right) / 2.0, (top + bottom) / 2.0
        ox, oy = back @ np.array([cx, cy, 1.0])
        half = (right - left) / 2.0
        box = ((ox - half) / scale, (oy - half) / scale, (ox + half) / scale, (oy + half) / scale)
        found.append(Candidate(box, score, angle))
    return found


def _suppressed(candidates: list[Candidate]) -> list[Candidate]:
    """The strongest candidate of each group that overlaps (upright candidates win near-ties)."""
    ordered = sorted(candidates, key=lambda c: c.score + (0.1 if c.angle == 0.0 else 0.0), reverse=True)
    kept: list[Candidate] = []
    for cand in ordered:
        cx, cy = (cand.box[0] + cand.box[2]) / 2.0, (cand.box[1] + cand.box[3]) / 2.0
        if all(
            box_overlap(cand.box, k.box) < 0.3 and not (k.box[0] <= cx <= k.box[2] and k.box[1] <= cy <= k.box[3])
            for k in kept
        ):
            kept.append(cand)
    return kept


def _upright(hits: list[tuple[FloatBox, float, int]]) -> list[Candidate]:
    """Candidates of an upright pass: turned views down to CANDIDATE_SCORE, the others to FRONTAL_SCORE."""
    return [
        Candidate(box, score, 0.0, view)
        for box, score, view in hits
        if score >= FRONTAL_SCORE or view in TURNED_VIEWS
    ]


def _ladder(long_side: int) -> list[float]:
    """Scales of the upright passes, coarse first: a long side of 640 px, then 1000, then 60 px faces."""
    scales = [min(1.0, side / long_side) for side in FIRST_LONG_SIDES]
    scales.append(DETECTOR_WINDOW / MIN_FACE)
    return sorted(set(scales))


def candidates(rgb: np.ndarray) -> list[Candidate]:
    """Steps 1-5: every candidate of every pass, in input pixels."""
    work = working_copy(rgb)
    long_side = max(work.shape[:2])
    found: list[Candidate] = []
    clear: list[Candidate] = []
    # 2-3. finer passes only while nothing clear is found, or the faces found are near the pass's
    # smallest size (a group photo: smaller faces are likely too)
    ladder = _ladder(long_side)
    for index, scale in enumerate(ladder):
        upsample = 1 if scale > 1.0 else 0
        found += _upright(hog_views(work, scale / 2.0 if upsample else scale, upsample, CANDIDATE_SCORE))
        clear = [c for c in found if c.score >= 0.0]
        smallest = min((c.box[2] - c.box[0]) * scale for c in clear) if clear else math.inf
        # the upsampled pass costs about 3 coarse ones: after a clear find, only for a group
        costly_next = index + 1 < len(ladder) and ladder[index + 1] > 1.0
        if clear and (smallest >= 1.3 * DETECTOR_WINDOW or (costly_next and len(_suppressed(clear)) < GROUP)):
            break
    # 4. tilted copies: small ones always, bigger ones when nothing clear was found
    tilt_scale = min(1.0, TILT_LONG_SIDE / long_side)
    if not clear:
        tilt_scale = max(tilt_scale, min(1.0, DETECTOR_WINDOW / TILT_MIN_FACE))
    small = resized(work, tilt_scale)
    for angle in TILT_DEGREES:
        found += _tilted(small, tilt_scale, angle)
    if not clear:
        found += _upright(hog_views(work, min(1.0, PAD_LONG_SIDE / long_side), 0, CANDIDATE_SCORE, pad=0.3))
    return found


def detect(rgb: np.ndarray) -> list[Candidate]:
    """The faces of ``rgb``: every pass's candidates, suppressed, then second opinions on the weak ones."""
    kept = _suppressed(candidates(rgb))
    if not kept:
        return _cnn_fallback(rgb)
    best = kept[0]
    faces: list[Candidate] = []
    checks, cnn_checks = 0, 0
    for cand in kept:
        if cand.score >= CLEAR_SCORE or (cand is best and cand.score >= 0.0):
            faces.append(cand)
            continue
        if checks >= MAX_CHECKS:
            continue
        checks += 1
        if haar_agrees(rgb, cand.box, cand.angle, turned=cand.view in TURNED_VIEWS):
            faces.append(cand)
            continue
        # The CNN (slow here: about 60-150 ms a look) only where HOG is known to be weak: turned
        # views, or the best candidate of a photo where nothing else was found.
        wanted = cand.view in TURNED_VIEWS or (cand is best and not faces)
        if wanted and cand.angle == 0.0 and cand.score >= CNN_MIN_SCORE and cnn_checks < MAX_CNN_CHECKS:
            cnn_checks += 1
            if cnn_agrees(rgb, cand.box) is not None:
                faces.append(cand)
    return faces or _cnn_fallback(rgb)


def _cnn_fallback(rgb: np.ndarray) -> list[Candidate]:
    """7. HOG found nothing: dlib's CNN on a small copy (about 0.3 s here), for big faces HOG cannot
    see (halftone prints, strong turns); the copy keeps faces of a quarter of the long side."""
    scale = min(1.0, CNN_FALLBACK_LONG_SIDE / max(rgb.shape[:2]))
    hits = scaled_hits(cnn_runner(), rgb, scale, 0)
    return [Candidate(box, score) for box, score in hits if score >= CNN_FALLBACK_SCORE]
