"""Identity guard: measure each face in the stylized output and bring back structure if it drifted.

For a face whose embedding distance to the input exceeds the threshold, the guard tries
increasingly strong restorations inside the feathered face mask, re-measuring after each
(see ``DEFAULT_STEPS``): first the original's luminance detail under the stylized colours, then,
as a last resort, partial blends of the original (luminance only on a grey drawing).
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.domain import FaceReport
from restyle.errors import InvalidParameter
from restyle.faces.detect import detect_face_in_region, landmarks_for_box
from restyle.faces.embed import embed_chip, embed_face, face_chip, identity_distance
from restyle.faces.masks import crop_masks
from restyle.faces.types import Face

# (strength, plain) of each restoration step, mildest first. Detail steps keep the stylized colours
# and add the photo's luminance detail plus part of its low-frequency luminance; plain steps blend
# the photo's luminance (and, on a coloured face, its colours) in: the last resort.
DEFAULT_STEPS: tuple[tuple[float, bool], ...] = (
    (0.2, False), (0.35, False), (0.5, False), (0.65, False), (0.8, False), (0.45, True), (0.8, True),
)
_DETAIL_SIGMA = 0.03  # high-pass cut-off, relative to the face width
_GREY_CHROMA = 4.0  # mean |a|+|b| (Lab) under which a stylized face counts as grey (sketch, ink)


def _steps(max_steps: int) -> list[tuple[float, bool]]:
    """The last ``max_steps`` of DEFAULT_STEPS (the strongest), or all of them."""
    if max_steps <= 0:
        return []
    return list(DEFAULT_STEPS[-max_steps:])


class _Restorer:
    """Precomputed crops of one face; ``apply(alpha, plain)`` returns a restored full image."""

    def __init__(self, original: np.ndarray, stylized: np.ndarray, face: Face) -> None:
        shape = (int(stylized.shape[0]), int(stylized.shape[1]))
        masks = crop_masks(shape, face)
        self.stylized = stylized
        self.rows, self.cols = masks.slices()
        self.mask = masks.on_crop("face")[..., None]
        orig = original[self.rows, self.cols].astype(np.float32) / 255.0
        styl = stylized[self.rows, self.cols].astype(np.float32) / 255.0
        self.orig, self.styl = orig, styl
        self.styl_lab = cv2.cvtColor(styl, cv2.COLOR_RGB2Lab)
        self.orig_lab = cv2.cvtColor(orig, cv2.COLOR_RGB2Lab)
        orig_l = self.orig_lab[..., 0]
        weight = float(self.mask.sum()) or 1.0
        chroma = np.abs(self.styl_lab[..., 1:]).sum(axis=2, keepdims=True)
        self.grey = float((chroma * self.mask).sum()) / weight < _GREY_CHROMA
        sigma = max(1.0, _DETAIL_SIGMA * max(face.width, 1))
        low = cv2.GaussianBlur(orig_l, (0, 0), sigma)
        self.detail = orig_l - low
        self.low_shift = low - self.styl_lab[..., 0]

    def apply(self, alpha: float, plain: bool) -> np.ndarray:
        """The stylized image with this face restored at strength ``alpha``."""
        restored: np.ndarray
        if plain:
            channels = slice(0, 1) if self.grey else slice(0, 3)  # a grey drawing stays grey
            lab = self.styl_lab.copy()
            shift = self.orig_lab[..., channels] - self.styl_lab[..., channels]
            lab[..., channels] = self.styl_lab[..., channels] + np.float32(alpha) * shift
            restored = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
        else:
            lab = self.styl_lab.copy()
            lab[..., 0] = np.clip(
                lab[..., 0] + alpha * self.detail + 0.5 * alpha * self.low_shift, 0.0, 100.0
            )
            restored = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
        blended = self.styl + self.mask * (restored - self.styl)
        out = self.stylized.copy()
        out[self.rows, self.cols] = np.clip(blended * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return out


def _clipped(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    return max(0, left), max(0, top), min(width, right), min(height, bottom)


def _measure(image: np.ndarray, box: tuple[int, int, int, int], reference: np.ndarray) -> float:
    located = landmarks_for_box(image, box)
    return identity_distance(embed_chip(face_chip(image, located)), reference)


def identity_guard(
    original: np.ndarray,
    stylized: np.ndarray,
    faces: list[Face],
    *,
    threshold: float = 0.5,
    enabled: bool = True,
    max_steps: int = len(DEFAULT_STEPS),
) -> tuple[np.ndarray, list[FaceReport]]:
    """Measure identity per face and, when ``enabled``, restore faces farther than ``threshold``.

    ``faces`` are the input faces in ``stylized`` coordinates (``original`` has the same size);
    their embeddings are reused when present. Returns the (possibly restored) image and one
    FaceReport per face, in the order given. Never raises because a face cannot be kept.
    At most ``max_steps`` restorations are tried per face: the strongest ``max_steps`` of
    ``DEFAULT_STEPS``; the first that passes is kept, so the face moves no further than needed.
    """
    if original.shape != stylized.shape:
        raise InvalidParameter(
            f"The original {original.shape} and stylized {stylized.shape} images must have the same size.",
            param="stylized",
        )
    result = stylized
    reports: list[FaceReport] = []
    height, width = stylized.shape[:2]
    for face in faces:
        visible = _clipped(face.box, width, height)
        if visible[2] <= visible[0] or visible[3] <= visible[1]:
            # The face lies outside the output (cropped away): nothing to measure or keep.
            reports.append(FaceReport(box=visible, identity_distance=None, detected_in_output=False))
            continue
        # 1. Reference embedding and the face's position in the output.
        reference: np.ndarray = face.embedding if face.embedding is not None else embed_face(original, face)
        found = detect_face_in_region(result, face.box)
        located = found if found is not None else landmarks_for_box(result, face.box)
        distance = identity_distance(embed_chip(face_chip(result, located)), reference)
        report = FaceReport(
            box=_clipped(located.box, width, height),
            identity_distance=distance,
            detected_in_output=found is not None,
        )
        reports.append(report)
        if distance <= threshold:
            continue
        report.guard_passed = False
        if not enabled:
            continue
        # 2. Stronger and stronger restorations until the face passes; keep the closest one.
        restorer = _Restorer(original, result, face)
        best_image, best_distance = result, distance
        for step, (alpha, plain) in enumerate(_steps(max_steps), start=1):
            candidate = restorer.apply(alpha, plain=plain)
            candidate_distance = _measure(candidate, located.box, reference)
            report.guard_steps = step
            if candidate_distance < best_distance:
                best_image, best_distance = candidate, candidate_distance
            if candidate_distance <= threshold:
                break
        report.guard_applied = best_image is not result
        report.guard_passed = best_distance <= threshold
        report.identity_distance = best_distance
        result = best_image
    return result, reports
