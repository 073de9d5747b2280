"""Identity guard: re-detect each face in the stylized output, measure it, and restore it if it drifted.

Every face is measured after the fact: re-detected at its place in the output (never with the
input's landmarks) and embedded there. A face that is not found again, or whose embedding distance
to the input exceeds the threshold, is restored in two kinds of step, re-measured after each:

1. style steps: the engine redraws the face with more of the photo's structure in the preset's own
   line work, shading and palette (``rerender(detail)`` at each of ``STYLE_LEVELS``);
2. photo-blend steps, the last resort (``DEFAULT_STEPS``): the photo's luminance detail, then
   partial blends of the photo (luminance only on a grey drawing), inside the feathered face mask.

The first candidate that passes is kept, so a face moves no further than needed; when none passes,
the closest is kept and the face is flagged ``identity_lost``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from restyle.domain import FaceReport
from restyle.errors import InternalError, InvalidParameter
from restyle.faces.detect import detect_face_in_region, landmarks_for_box
from restyle.faces.embed import embed_faces, identity_distance, with_embeddings
from restyle.faces.masks import crop_masks
from restyle.faces.types import Face

Box = tuple[int, int, int, int]
# detail -> the stylized image with the faces redrawn at that detail, or None when the engine cannot
Rerender = Callable[[float], "np.ndarray | None"]

STYLE_LEVELS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
# (strength, plain) of each photo-blend step, mildest first. Detail steps keep the stylized colours
# and add the photo's luminance detail plus part of its low-frequency luminance; plain steps blend
# the photo's luminance (and, on a coloured face, its colours) in.
DEFAULT_STEPS: tuple[tuple[float, bool], ...] = (
    (0.2, False), (0.35, False), (0.5, False), (0.65, False), (0.8, False), (0.45, True), (0.8, True),
)

_DETAIL_SIGMA = 0.03  # high-pass cut-off of the photo-blend detail steps, relative to the face width
_GREY_CHROMA = 4.0  # mean |a|+|b| (Lab) under which a stylized face counts as grey (sketch, ink)


def _steps(max_steps: int) -> list[tuple[float, bool]]:
    """The last ``max_steps`` of DEFAULT_STEPS (the strongest), or all of them."""
    if max_steps <= 0:
        return []
    return list(DEFAULT_STEPS[-max_steps:])


@dataclass
class _Measure:
    """One face measured in one image: where it was re-detected and its distance to the input.

    A face not re-detected is still measured on landmarks predicted in its box (``found`` None),
    but it passes only when the region detector cannot find it in the photo either (``lenient``:
    the output frame cuts it, or it is too small, blurred or turned for that detector): a face the
    detector finds in the photo but no longer in the output is not kept, whatever that weaker
    measure says.
    """

    found: Face | None
    distance: float
    lenient: bool

    def passes(self, threshold: float) -> bool:
        return self.distance <= threshold and (self.found is not None or self.lenient)

    def better_than(self, other: _Measure) -> bool:
        mine, theirs = self.found is not None, other.found is not None
        return mine > theirs or (mine == theirs and self.distance < other.distance)


def _measure_all(image: np.ndarray, boxes: Sequence[Box], references: Sequence[np.ndarray],
                 cuts: Sequence[bool]) -> list[_Measure]:
    """Each box's face re-detected in ``image`` and measured; the embeddings in one network run."""
    found = [detect_face_in_region(image, box) for box in boxes]
    located = [f if f is not None else landmarks_for_box(image, box) for f, box in zip(found, boxes, strict=True)]
    vectors = embed_faces(image, located)
    return [
        _Measure(f, identity_distance(vector, reference), cut)
        for f, vector, reference, cut in zip(found, vectors, references, cuts, strict=True)
    ]


def _measure(image: np.ndarray, box: Box, reference: np.ndarray, cut: bool) -> _Measure:
    return _measure_all(image, [box], [reference], [cut])[0]


class _PhotoBlend:
    """The photo-blend steps of one face: ``apply(alpha, plain)`` returns a restored full image."""

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


def _embedding(face: Face) -> np.ndarray:
    if face.embedding is None:  # with_embeddings fills every one
        raise InternalError("A reference face has no embedding after with_embeddings.", code="guard.embedding")
    return face.embedding


def _clipped(box: Box, width: int, height: int) -> Box:
    left, top, right, bottom = box
    return max(0, left), max(0, top), min(width, right), min(height, bottom)


class _StyleSteps:
    """The engine's redrawn images, one per detail level, rendered once and shared by all faces."""

    def __init__(self, rerender: Rerender | None, levels: Sequence[float]) -> None:
        self.rerender, self.levels = rerender, tuple(levels) if rerender is not None else ()
        self._cache: dict[float, np.ndarray | None] = {}

    def image(self, detail: float) -> np.ndarray | None:
        if detail not in self._cache and self.rerender is not None:
            self._cache[detail] = self.rerender(detail)
        return self._cache.get(detail)


def _with_region(base: np.ndarray, source: np.ndarray, face: Face) -> np.ndarray:
    """``base`` with ``face``'s crop region taken from ``source`` (the engine blends inside it)."""
    rows, cols = crop_masks((int(base.shape[0]), int(base.shape[1])), face).slices()
    out = base.copy()
    out[rows, cols] = source[rows, cols]
    return out


def identity_guard(
    original: np.ndarray,
    stylized: np.ndarray,
    faces: list[Face],
    *,
    threshold: float = 0.5,
    enabled: bool = True,
    max_steps: int = len(DEFAULT_STEPS),
    rerender: Rerender | None = None,
    style_levels: Sequence[float] = STYLE_LEVELS,
) -> tuple[np.ndarray, list[FaceReport]]:
    """Measure identity per face and, when ``enabled``, restore faces that drifted or were lost.

    ``faces`` are the input faces in ``stylized`` coordinates (``original`` has the same size);
    their embeddings are reused when present. ``rerender(detail)`` (from the engine, optional)
    returns the stylized image with its faces redrawn at ``detail`` in 0..1; its levels
    ``style_levels`` are tried first, then at most ``max_steps`` photo-blend steps (the strongest
    ``max_steps`` of ``DEFAULT_STEPS``). Returns the (possibly restored) image and one FaceReport
    per face, in the order given. Never raises because a face cannot be kept.
    """
    if original.shape != stylized.shape:
        raise InvalidParameter(
            f"The original {original.shape} and stylized {stylized.shape} images must have the same size.",
            param="stylized",
        )
    result = stylized
    reports: list[FaceReport] = []
    height, width = stylized.shape[:2]
    style = _StyleSteps(rerender, style_levels)
    # 1. Every visible face re-detected at its place in the output and measured, in one batch;
    # reference embeddings are reused, the missing ones computed in one batch too.
    visible = [_clipped(face.box, width, height) for face in faces]
    shown = [i for i, v in enumerate(visible) if v[2] > v[0] and v[3] > v[1]]
    references = with_embeddings(original, [faces[i] for i in shown])
    cuts = [visible[i] != faces[i].box for i in shown]  # cut by the frame: no whole face to find
    refs = {i: _embedding(f) for i, f in zip(shown, references, strict=True)}
    first = dict(zip(shown, _measure_all(result, [faces[i].box for i in shown], [refs[i] for i in shown], cuts),
                     strict=True))
    for index, face in enumerate(faces):
        if index not in first:
            # The face lies outside the output (cropped away): nothing to measure or keep.
            reports.append(FaceReport(box=visible[index], identity_distance=None, detected_in_output=False))
            continue
        reference, measured = refs[index], first[index]
        cut = measured.lenient
        if measured.found is None and not cut:
            # not found in the output: is it found in the photo itself? If not, the detector's limit
            # is no sign of a lost face, and the measure on landmarks in its box stands
            cut = detect_face_in_region(original, face.box) is None
            measured.lenient = cut
        report = FaceReport(box=visible[index], identity_distance=None, detected_in_output=False)
        reports.append(report)
        best_image, best = result, measured
        if not measured.passes(threshold) and enabled:
            # 2. Style steps: the face redrawn in the preset's terms, more and more detailed; a
            # redraw that changes nothing in the face's region is not measured again.
            for detail in style.levels:
                redrawn = style.image(detail)
                if redrawn is None:
                    break
                report.style_steps += 1
                rows, cols = crop_masks((height, width), face).slices()
                if np.array_equal(redrawn[rows, cols], best_image[rows, cols]):
                    continue
                candidate = _with_region(result, redrawn, face)
                measured = _measure(candidate, face.box, reference, cut)
                best_image, best = _keep_better(best_image, best, candidate, measured)
                if best.passes(threshold):
                    break
            # 3. Photo-blend steps, the last resort, on the best style candidate.
            if not best.passes(threshold) and max_steps > 0:
                blend = _PhotoBlend(original, best_image, face)
                for alpha, plain in _steps(max_steps):
                    candidate = blend.apply(alpha, plain=plain)
                    report.blend_steps += 1
                    measured = _measure(candidate, face.box, reference, cut)
                    best_image, best = _keep_better(best_image, best, candidate, measured)
                    if best.passes(threshold):
                        break
        # 4. Report what the output now holds.
        report.guard_steps = report.style_steps + report.blend_steps
        report.guard_applied = best_image is not result
        report.guard_passed = best.passes(threshold)
        report.identity_lost = not report.guard_passed
        report.identity_distance = best.distance
        report.detected_in_output = best.found is not None
        if best.found is not None:
            report.box = _clipped(best.found.box, width, height)
        result = best_image
    return result, reports


def _keep_better(
    image: np.ndarray, measured: _Measure, candidate: np.ndarray, candidate_measured: _Measure
) -> tuple[np.ndarray, _Measure]:
    if candidate_measured.better_than(measured):
        return candidate, candidate_measured
    return image, measured
