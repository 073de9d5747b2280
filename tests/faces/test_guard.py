from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.errors import InvalidParameter
from restyle.faces import Face, build_masks, identity_guard


def _destroyed(image: np.ndarray, face: Face) -> np.ndarray:
    """The face posterized to 3 levels per channel and heavily blurred inside its mask."""
    mask = build_masks(image, [face]).face[..., None]
    poster = (image // 86 * 86 + 43).astype(np.uint8)
    poster = cv2.GaussianBlur(poster, (0, 0), 0.08 * face.width)
    return (image * (1 - mask) + poster * mask + 0.5).astype(np.uint8)


def test_identical_output_passes_untouched(astronaut: np.ndarray, astronaut_face: Face) -> None:
    out, reports = identity_guard(astronaut, astronaut, [astronaut_face])
    assert out is astronaut
    (report,) = reports
    assert report.detected_in_output and report.identity_distance is not None
    assert report.identity_distance < 0.1
    assert (report.guard_applied, report.guard_passed, report.guard_steps) == (False, True, 0)


def test_guard_restores_a_destroyed_face(astronaut: np.ndarray, astronaut_face: Face) -> None:
    stylized = _destroyed(astronaut, astronaut_face)
    _, (measured,) = identity_guard(astronaut, stylized, [astronaut_face], threshold=0.4, enabled=False)
    out, (report,) = identity_guard(astronaut, stylized, [astronaut_face], threshold=0.4)
    assert measured.identity_distance is not None and measured.identity_distance > 0.4
    assert report.guard_applied and report.guard_passed and report.guard_steps >= 1
    assert report.identity_distance is not None and report.identity_distance < measured.identity_distance
    head = build_masks(astronaut, [astronaut_face]).face
    assert np.array_equal(out[head == 0.0], stylized[head == 0.0])  # only the face is touched


def test_disabled_guard_measures_without_acting(astronaut: np.ndarray, astronaut_face: Face) -> None:
    stylized = _destroyed(astronaut, astronaut_face)
    out, (report,) = identity_guard(astronaut, stylized, [astronaut_face], threshold=0.4, enabled=False)
    assert out is stylized
    assert report.identity_distance is not None and report.identity_distance > 0.4
    assert (report.guard_applied, report.guard_passed, report.guard_steps) == (False, False, 0)


def test_hopeless_face_reports_failure(astronaut: np.ndarray, astronaut_face: Face) -> None:
    noise = np.random.default_rng(0).integers(0, 256, astronaut.shape, dtype=np.uint8)
    out, (report,) = identity_guard(astronaut, noise, [astronaut_face], threshold=0.05, max_steps=3)
    assert not report.guard_passed and report.guard_steps == 3
    assert not report.detected_in_output
    assert out.shape == astronaut.shape


def test_computes_missing_embeddings_and_checks_sizes(astronaut: np.ndarray, astronaut_face: Face) -> None:
    bare = Face(box=astronaut_face.box, landmarks=astronaut_face.landmarks)
    _, (report,) = identity_guard(astronaut, astronaut, [bare])
    assert report.identity_distance is not None and report.identity_distance < 0.1
    with pytest.raises(InvalidParameter):
        identity_guard(astronaut, astronaut[:100], [astronaut_face])


def test_faces_cut_by_the_output_frame(astronaut: np.ndarray, astronaut_face: Face) -> None:
    half = np.ascontiguousarray(astronaut[:, 220:])
    cut = astronaut_face.transformed(1.0, 220, 0)
    gone = astronaut_face.transformed(1.0, 300, 0)
    _, (partial, outside) = identity_guard(half, half, [cut, gone])
    assert partial.identity_distance is not None and partial.box[0] == 0
    assert outside.identity_distance is None and outside.guard_passed


def test_a_grey_drawing_stays_grey_under_the_guard(
    astronaut: np.ndarray, astronaut_face: Face
) -> None:
    grey = cv2.cvtColor(cv2.cvtColor(_destroyed(astronaut, astronaut_face), cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    out, (report,) = identity_guard(astronaut, grey, [astronaut_face], threshold=0.12)
    assert report.guard_applied and report.guard_steps >= 1
    left, top, right, bottom = astronaut_face.box
    face = out[top:bottom, left:right].astype(np.int16)
    assert int((face.max(axis=2) - face.min(axis=2)).max()) <= 6  # no photo colours pasted on a drawing
