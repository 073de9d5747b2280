from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.engines.classic.face_detail import redraw_faces
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
    assert not report.guard_passed and report.identity_lost
    assert (report.guard_steps, report.style_steps, report.blend_steps) == (3, 0, 3)
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


def _abstract(image: np.ndarray, face: Face) -> np.ndarray:
    """The face drawn too abstractly: five flat cel colours of a heavily blurred face, no features."""
    mask = build_masks(image, [face]).face[..., None]
    blurred = cv2.GaussianBlur(image, (0, 0), 0.06 * face.width).reshape(-1, 3).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(1)
    _, labels, centres = cv2.kmeans(blurred, 5, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    cel = centres[labels.ravel()].reshape(image.shape)
    return (image * (1 - mask) + cel * mask + 0.5).astype(np.uint8)


@pytest.mark.parametrize("photo", ["astronaut", "grace_hopper"])
def test_an_abstract_face_gets_its_identity_back_through_style_steps_only(
    photo: str, request: pytest.FixtureRequest
) -> None:
    image: np.ndarray = request.getfixturevalue(photo)
    face: Face = request.getfixturevalue("astronaut_face" if photo == "astronaut" else "grace_face")
    drawn = _abstract(image, face)
    calls: list[float] = []

    def rerender(detail: float) -> np.ndarray:
        calls.append(detail)
        return redraw_faces(drawn, image, [face], detail)

    _, (before,) = identity_guard(image, drawn, [face], threshold=0.5, enabled=False)
    out, (report,) = identity_guard(image, drawn, [face], threshold=0.5, rerender=rerender)
    # the drawing alone is not this person (or not a face at all)
    assert before.identity_lost and not before.guard_passed
    assert report.guard_passed and not report.identity_lost and report.detected_in_output
    assert report.style_steps >= 1 and report.blend_steps == 0 and report.guard_steps == report.style_steps
    assert report.identity_distance is not None and report.identity_distance <= 0.5
    assert calls == sorted(calls) and len(calls) == report.style_steps
    # drawn in the face's own palette: the redrawn face's colours lie near the drawing's, the photo's do not
    left, top, right, bottom = face.box
    inner = (slice(top + face.height // 4, bottom - face.height // 4),
             slice(left + face.width // 4, right - face.width // 4))
    palette = np.unique(drawn[inner].reshape(-1, 3), axis=0).astype(np.float32)
    redrawn_gap, photo_gap = _palette_gap(out[inner], palette), _palette_gap(image[inner], palette)
    assert redrawn_gap < 12.0 and photo_gap > 2.0 * redrawn_gap


def _palette_gap(pixels: np.ndarray, palette: np.ndarray) -> float:
    """Median RGB distance from each pixel to its nearest palette colour."""
    flat = pixels.reshape(-1, 1, 3).astype(np.float32)
    return float(np.median(np.sqrt(((flat - palette[None]) ** 2).sum(axis=2)).min(axis=1)))


def test_the_photo_blend_is_reached_when_style_steps_cannot_help(
    astronaut: np.ndarray, astronaut_face: Face
) -> None:
    stylized = _destroyed(astronaut, astronaut_face)
    calls: list[float] = []

    def useless(detail: float) -> np.ndarray:
        calls.append(detail)
        return stylized  # the engine redraws, but nothing changes

    out, (report,) = identity_guard(astronaut, stylized, [astronaut_face], threshold=0.4, rerender=useless)
    assert report.style_steps == len(calls) == 4
    assert report.blend_steps >= 1 and report.guard_passed and report.guard_applied
    assert report.guard_steps == report.style_steps + report.blend_steps


def test_an_engine_without_style_steps_goes_straight_to_the_photo_blend(
    astronaut: np.ndarray, astronaut_face: Face
) -> None:
    stylized = _destroyed(astronaut, astronaut_face)
    _, (report,) = identity_guard(astronaut, stylized, [astronaut_face], threshold=0.4, rerender=lambda d: None)
    assert report.style_steps == 0 and report.blend_steps >= 1 and report.guard_passed


def test_every_face_of_a_group_is_guarded(astronaut_small: np.ndarray, grace_hopper: np.ndarray) -> None:
    from restyle.faces import detect_faces, embed_face

    group = np.zeros((320, 640 + 320, 3), np.uint8)
    group[:, :320] = astronaut_small
    group[:, 320:640] = cv2.resize(grace_hopper, (320, 320), interpolation=cv2.INTER_AREA)
    group[:, 640:] = astronaut_small[:, ::-1]
    faces = [f.with_embedding(embed_face(group, f)) for f in detect_faces(group)]
    assert len(faces) == 3
    drawn = group.copy()
    for face in faces:
        drawn = _abstract(drawn, face)
    out, reports = identity_guard(
        group, drawn, faces, threshold=0.5, rerender=lambda d: redraw_faces(drawn, group, faces, d)
    )
    assert len(reports) == 3
    for face, report in zip(faces, reports, strict=True):
        assert report.guard_passed and report.blend_steps == 0 and report.style_steps >= 1
        assert abs(report.box[0] - face.box[0]) < 0.3 * face.width  # measured at its own place


def test_a_face_left_over_the_threshold_is_flagged_and_warned(astronaut_png: bytes) -> None:
    from restyle.domain import GenerateRequest, ImageSource
    from restyle.pipeline import Pipeline

    request = GenerateRequest(image=ImageSource(data=astronaut_png), style="sketch", seed=3, min_identity=0.05)
    result = Pipeline().render(request)
    (face,) = result.faces
    assert face.identity_lost and not face.guard_passed and face.guard_applied
    assert face.style_steps == 4 and face.blend_steps == 7
    summary = result.summary()["faces"][0]
    assert summary["identity_lost"] and summary["blend_steps"] == 7
    (warning,) = [w for w in result.warnings if w.startswith("Face 0")]
    assert "above the requested min_identity=0.05" in warning and "could not bring it lower" in warning
