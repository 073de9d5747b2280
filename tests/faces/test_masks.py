from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.faces import Face, FaceMasks, build_masks, detect_faces
from restyle.faces.masks import eyes_mask, face_mask, head_mask, lips_mask, skin_mask

KINDS = ("face", "skin", "eyes", "brows", "lips", "head")


@pytest.fixture(scope="module")
def masks(astronaut: np.ndarray, astronaut_face: Face) -> FaceMasks:
    return build_masks(astronaut, [astronaut_face])


def test_shapes_and_ranges(masks: FaceMasks) -> None:
    for kind in KINDS:
        mask = getattr(masks, kind)
        assert mask.shape == (512, 512) and mask.dtype == np.float32
        assert mask.min() >= 0.0 and mask.max() <= 1.0
        assert mask.max() > 0.9, kind
    assert len(masks.crops) == 1


def test_regions_nest(masks: FaceMasks, astronaut_face: Face) -> None:
    assert (masks.face[masks.eyes > 0.5] > 0.5).all()
    assert (masks.face[masks.lips > 0.5] > 0.5).all()
    assert (masks.head >= masks.face - 1e-6).all()
    assert masks.head.sum() > 1.3 * masks.face.sum()  # hair
    assert (masks.skin <= masks.face + 1e-6).all()


def test_skin_excludes_features(masks: FaceMasks, astronaut_face: Face) -> None:
    pts = astronaut_face.landmarks
    for centre in (pts[36:42].mean(axis=0), pts[42:48].mean(axis=0), pts[60:68].mean(axis=0)):
        x, y = (int(round(v)) for v in centre)
        assert masks.skin[y, x] < 0.2
    for cheek in ((pts[2] + pts[31]) / 2, (pts[14] + pts[35]) / 2):
        x, y = (int(round(v)) for v in cheek)
        assert masks.skin[y, x] > 0.8
    left, top, right, bottom = astronaut_face.box
    assert masks.face[: max(0, top - 60)].max() == 0.0  # far above the forehead
    assert masks.face[:, right + 40 :].max() == 0.0


def test_single_masks_match_combined(astronaut: np.ndarray, astronaut_face: Face, masks: FaceMasks) -> None:
    shape = (512, 512)
    np.testing.assert_allclose(face_mask(shape, astronaut_face), masks.face, atol=1e-6)
    np.testing.assert_allclose(eyes_mask(shape, astronaut_face), masks.eyes, atol=1e-6)
    np.testing.assert_allclose(lips_mask(shape, astronaut_face), masks.lips, atol=1e-6)
    np.testing.assert_allclose(head_mask(shape, astronaut_face), masks.head, atol=1e-6)
    np.testing.assert_allclose(skin_mask(astronaut, astronaut_face), masks.skin, atol=1e-6)


def test_several_faces_and_none(astronaut: np.ndarray, grace_hopper: np.ndarray) -> None:
    pair = np.concatenate([astronaut, cv2.resize(grace_hopper, (512, 600))[44:556]], axis=1)
    faces = detect_faces(pair)
    combined = build_masks(pair, faces)
    assert combined.face[:, :512].max() > 0.9 and combined.face[:, 512:].max() > 0.9
    empty = build_masks(pair, [])
    assert all(getattr(empty, kind).max() == 0.0 for kind in KINDS)


def test_face_touching_the_borders(astronaut: np.ndarray) -> None:
    frame = cv2.resize(astronaut[83:170, 179:266], (400, 400), interpolation=cv2.INTER_CUBIC)
    faces = detect_faces(frame)
    built = build_masks(frame, faces)
    assert built.face.shape == (400, 400) and built.face.max() > 0.9 and built.head.min() >= 0.0
