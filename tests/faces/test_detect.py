from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.errors import ImageError, InvalidParameter
from restyle.faces import Face, detect_face_in_region, detect_faces, landmarks_for_box

ASTRONAUT_BOX = (179, 83, 266, 170)  # where dlib's HOG finds the astronaut's face


def _inside(face: Face, box: tuple[int, int, int, int], tolerance: float = 0.25) -> bool:
    left, top, right, bottom = box
    pad = tolerance * (right - left)
    cx, cy = face.center
    return left - pad <= cx <= right + pad and top - pad <= cy <= bottom + pad


def test_detects_the_astronaut(astronaut: np.ndarray) -> None:
    faces = detect_faces(astronaut)
    assert len(faces) == 1
    face = faces[0]
    assert _inside(face, ASTRONAUT_BOX, 0.1)
    assert face.landmarks.shape == (68, 2) and face.landmarks.dtype == np.float32
    eyes = face.landmarks[36:48]
    assert (eyes[:, 0] > face.box[0]).all() and (eyes[:, 0] < face.box[2]).all()
    assert face.score > 0


def test_detects_grace_hopper(grace_hopper: np.ndarray) -> None:
    faces = detect_faces(grace_hopper)
    assert len(faces) == 1
    assert 150 < faces[0].width < 300


@pytest.mark.parametrize("canvas_size", [(900, 1200), (3000, 4000)], ids=["1200px", "4000px"])
def test_finds_a_small_face_on_a_large_canvas(astronaut: np.ndarray, canvas_size: tuple[int, int]) -> None:
    scale = 65 / (ASTRONAUT_BOX[2] - ASTRONAUT_BOX[0])
    small = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((*canvas_size, 3), 120, np.uint8)
    canvas[300 : 300 + small.shape[0], 500 : 500 + small.shape[1]] = small
    faces = detect_faces(canvas)
    assert len(faces) == 1
    expected = tuple(int(v * scale) + off for v, off in zip(ASTRONAUT_BOX, (500, 300, 500, 300), strict=True))
    assert _inside(faces[0], expected)  # type: ignore[arg-type]
    assert 45 < faces[0].width < 95


@pytest.mark.parametrize("margin", [0.0, 0.15])
def test_finds_a_full_frame_face(astronaut: np.ndarray, margin: float) -> None:
    left, top, right, bottom = ASTRONAUT_BOX
    pad = int(margin * (right - left))
    crop = astronaut[top - pad : bottom + pad, left - pad : right + pad]
    frame = cv2.resize(crop, (700, 700), interpolation=cv2.INTER_CUBIC)
    faces = detect_faces(frame)
    assert len(faces) == 1
    assert faces[0].width > 350
    assert _inside(faces[0], (0, 0, 700, 700), 0.0)


def test_several_faces_main_first(astronaut: np.ndarray, grace_hopper: np.ndarray) -> None:
    grace = cv2.resize(grace_hopper, (512, 600))[44:556]
    faces = detect_faces(np.concatenate([astronaut, grace], axis=1))
    assert len(faces) == 2
    assert faces[0].center[0] > 512 and faces[0].width > faces[1].width  # Grace's face is larger
    assert len(detect_faces(np.concatenate([astronaut, grace], axis=1), max_faces=1)) == 1


def test_rotated_photo_needs_rotating_back(astronaut: np.ndarray) -> None:
    rotated = np.ascontiguousarray(np.rot90(astronaut))
    assert detect_faces(rotated) == []  # the frontal detector wants upright faces (callers apply EXIF)
    assert len(detect_faces(np.ascontiguousarray(np.rot90(rotated, -1)))) == 1


def test_no_face_and_grey_input() -> None:
    assert detect_faces(np.full((300, 400, 3), 128, np.uint8)) == []
    assert detect_faces(np.full((300, 400), 128, np.uint8)) == []


def test_rejects_bad_arguments(astronaut: np.ndarray) -> None:
    with pytest.raises(InvalidParameter):
        detect_faces(astronaut, detector="nope")
    with pytest.raises(ImageError):
        detect_faces(astronaut.astype(np.float32))


def test_explicit_upsample_is_a_single_pass(astronaut: np.ndarray) -> None:
    faces = detect_faces(astronaut, upsample=1)
    assert faces and _inside(faces[0], ASTRONAUT_BOX, 0.1)


def test_cnn_detector(astronaut: np.ndarray) -> None:
    crop = np.ascontiguousarray(astronaut[40:240, 120:320])
    faces = detect_faces(crop, detector="cnn")
    assert len(faces) == 1
    assert _inside(faces[0], (59, 43, 146, 130))


def test_redetects_in_a_region(astronaut: np.ndarray) -> None:
    face = detect_face_in_region(astronaut, ASTRONAUT_BOX)
    assert face is not None and _inside(face, ASTRONAUT_BOX, 0.1)
    blank = astronaut.copy()
    blank[60:200, 150:300] = 128
    assert detect_face_in_region(blank, ASTRONAUT_BOX) is None


def test_landmarks_for_a_box(astronaut: np.ndarray, astronaut_face: Face) -> None:
    face = landmarks_for_box(astronaut, astronaut_face.box)
    assert face.box == astronaut_face.box and face.score == 0.0
    assert np.abs(face.landmarks - astronaut_face.landmarks).max() < 1.0


@pytest.mark.parametrize("quality", [95, 80])
def test_a_badge_that_looks_like_a_face_is_not_a_face(astronaut: np.ndarray, quality: int) -> None:
    from tests.faces.conftest import jpeg

    # after a JPEG round trip HOG also fires, weakly, on the mission patch of the suit
    faces = detect_faces(jpeg(astronaut, quality))
    assert len(faces) == 1 and _inside(faces[0], ASTRONAUT_BOX, 0.1)


@pytest.mark.parametrize(("orientation", "turn"), [(3, cv2.ROTATE_180), (6, cv2.ROTATE_90_COUNTERCLOCKWISE),
                                                  (8, cv2.ROTATE_90_CLOCKWISE)])
def test_a_phone_photo_stored_sideways_is_found_once_decoded(
    astronaut: np.ndarray, orientation: int, turn: int
) -> None:
    import io

    from PIL import Image

    from restyle.imaging.codecs import decode_image

    # a phone stores the sensor's pixels turned and says in EXIF how to show them
    stored = cv2.rotate(astronaut, turn)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(stored).save(buffer, format="JPEG", quality=92, exif=exif.tobytes())
    assert detect_faces(stored) == [] or not _inside(detect_faces(stored)[0], ASTRONAUT_BOX, 0.1)
    faces = detect_faces(decode_image(buffer.getvalue()))
    assert len(faces) == 1 and _inside(faces[0], ASTRONAUT_BOX, 0.1)
