"""The ``auto`` detection cascade on scenes built from the two sample portraits: groups of small faces,
tilted heads, faded and black-and-white copies, and the false faces it must not report."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.faces import Face, detect_face_in_region, detect_faces
from restyle.faces.cascade import working_copy
from restyle.faces.hits import box_overlap

ASTRONAUT_BOX = (179, 83, 266, 170)
GRACE_BOX = (161, 137, 376, 352)  # dlib's HOG on the full grace_hopper sample
Truth = tuple[float, float, float, float]


def _turned(image: np.ndarray, angle: float) -> np.ndarray:
    h, w = image.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    return np.ascontiguousarray(cv2.warpAffine(image, turn, (w, h), borderMode=cv2.BORDER_REFLECT))


def _tile(source: np.ndarray, box: tuple[int, int, int, int], width: int, angle: float, contrast: float) -> np.ndarray:
    left, top, right, bottom = box
    margin = int(0.6 * (right - left))
    crop = source[max(0, top - margin) : bottom + margin, max(0, left - margin) : right + margin]
    scale = width / (right - left)
    tile = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if angle:
        tile = _turned(tile, angle)
    if contrast != 1.0:
        tile = np.clip((tile.astype(np.float32) - 128) * contrast + 128, 0, 255).astype(np.uint8)
    return tile


def _scene(astronaut: np.ndarray, grace: np.ndarray, specs: list[tuple[str, int, float, float]]
           ) -> tuple[np.ndarray, list[Truth]]:
    """Face tiles in rows on a blurred photo background, and where each face is."""
    canvas = cv2.resize(cv2.GaussianBlur(astronaut[400:512, :200], (0, 0), 3), (1200, 800))
    truth: list[Truth] = []
    x, y, row = 10, 10, 0
    for who, width, angle, contrast in specs:
        source, box = (astronaut, ASTRONAUT_BOX) if who == "a" else (grace, GRACE_BOX)
        tile = _tile(source, box, width, angle, contrast)
        h, w = tile.shape[:2]
        if x + w > canvas.shape[1]:
            x, y, row = 10, y + row + 10, 0
        canvas[y : y + h, x : x + w] = tile
        truth.append((x + (w - width) / 2, y + (h - width) / 2, x + (w + width) / 2, y + (h + width) / 2))
        x, row = x + w + 10, max(row, h)
    return np.ascontiguousarray(canvas), truth


def _score(faces: list[Face], truth: list[Truth]) -> tuple[int, int]:
    """(faces of ``truth`` found, reported faces that match none)."""
    boxes = [tuple(float(v) for v in f.box) for f in faces]
    found = sum(any(box_overlap(b, t) > 0.3 for b in boxes) for t in truth)
    false = sum(not any(box_overlap(b, t) > 0.3 for t in truth) for b in boxes)
    return found, false


@pytest.fixture(scope="module")
def grace(grace_hopper: np.ndarray) -> np.ndarray:
    return grace_hopper


def test_a_group_of_eight_small_faces(astronaut: np.ndarray, grace: np.ndarray) -> None:
    specs = [("a", w, 0.0, 1.0) for w in (70, 80, 95, 110)] + [("g", w, 0.0, 1.0) for w in (65, 75, 90, 120)]
    image, truth = _scene(astronaut, grace, specs)
    faces = detect_faces(image)
    assert _score(faces, truth) == (8, 0)
    assert _score(detect_faces(image, detector="hog"), truth)[0] < 8  # what the old path missed
    assert len(detect_faces(image, max_faces=5)) == 5


def test_tilted_heads(astronaut: np.ndarray, grace: np.ndarray) -> None:
    specs = [("a", 150, a, 1.0) for a in (-35, -25, 25, 35)] + [("g", 150, a, 1.0) for a in (-35, 35)]
    image, truth = _scene(astronaut, grace, specs)
    assert _score(detect_faces(image), truth) == (6, 0)


@pytest.mark.parametrize("angle", [-50.0, 45.0, 50.0, 55.0])
def test_a_photo_turned_past_what_hog_sees(grace: np.ndarray, angle: float) -> None:
    image = _turned(grace, angle)
    faces = detect_faces(image)
    assert len(faces) == 1
    face = faces[0]
    # landmarks follow the tilt: the line between the eyes is turned by about -angle
    left_eye, right_eye = face.landmarks[36:42].mean(axis=0), face.landmarks[42:48].mean(axis=0)
    slope = np.degrees(np.arctan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]))
    assert abs(slope + angle) < 15
    again = detect_face_in_region(image, face.box)
    assert again is not None and box_overlap(tuple(map(float, again.box)), tuple(map(float, face.box))) > 0.4


def test_faded_and_black_and_white_faces(astronaut: np.ndarray, grace: np.ndarray) -> None:
    specs = [("a", w, 0.0, 0.3) for w in (70, 100, 140)] + [("g", w, 0.0, 0.3) for w in (70, 100, 140)]
    image, truth = _scene(astronaut, grace, specs)
    grey = np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    assert _score(detect_faces(image), truth) == (6, 0)
    assert _score(detect_faces(grey), truth) == (6, 0)


def test_low_contrast_photos_are_stretched(grace: np.ndarray) -> None:
    faded = (grace.astype(np.float32) * 0.25 + 100).astype(np.uint8)
    work = working_copy(faded)
    assert work.ndim == 2 and float(work.std()) > 1.5 * float(cv2.cvtColor(faded, cv2.COLOR_RGB2GRAY).std())
    assert float(working_copy(grace).std()) == pytest.approx(float(cv2.cvtColor(grace, cv2.COLOR_RGB2GRAY).std()))
    assert len(detect_faces(faded)) == 1


@pytest.mark.parametrize("angle", [0.0, 35.0, -35.0])
def test_badges_and_patches_are_not_faces(astronaut: np.ndarray, angle: float) -> None:
    from tests.faces.conftest import jpeg

    image = _turned(jpeg(astronaut, 80), angle) if angle else jpeg(astronaut, 80)
    faces = detect_faces(image)
    assert len(faces) == 1 and faces[0].score > 0


def test_a_face_print_on_a_textured_wall_is_only_found_where_it_is(astronaut: np.ndarray) -> None:
    rng = np.random.default_rng(5)
    wall = cv2.GaussianBlur(rng.integers(0, 256, (700, 900, 3), dtype=np.uint8), (0, 0), 2)
    wall[200:312, 300:412] = cv2.resize(astronaut[60:200, 150:290], (112, 112))
    faces = detect_faces(wall)
    assert len(faces) == 1 and 280 < faces[0].center[0] < 430
    assert detect_faces(np.ascontiguousarray(wall[350:, :])) == []
