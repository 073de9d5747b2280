from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.errors import InvalidParameter
from restyle.faces import SAME_PERSON_THRESHOLD, Face, embed_face, identity_distance
from tests.faces.conftest import detect_one, jpeg


def test_embedding_shape_and_self_distance(astronaut: np.ndarray, astronaut_face: Face) -> None:
    assert astronaut_face.embedding is not None
    assert astronaut_face.embedding.shape == (128,) and astronaut_face.embedding.dtype == np.float64
    again = embed_face(astronaut, astronaut_face)
    assert identity_distance(astronaut_face, again) < 1e-6


def test_resized_copy_is_close(astronaut: np.ndarray, astronaut_face: Face) -> None:
    smaller = cv2.resize(astronaut, None, fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA)
    assert identity_distance(astronaut_face, detect_one(smaller)) < 0.2


def test_jpeg_copy_is_close(grace_hopper: np.ndarray, grace_face: Face) -> None:
    assert identity_distance(grace_face, detect_one(jpeg(grace_hopper, 70))) < 0.2


def test_different_people_are_far(astronaut_face: Face, grace_face: Face) -> None:
    assert identity_distance(astronaut_face, grace_face) > SAME_PERSON_THRESHOLD
    assert identity_distance(astronaut_face.embedding, grace_face) == pytest.approx(  # type: ignore[arg-type]
        identity_distance(astronaut_face, grace_face)
    )


def test_distance_needs_embeddings(astronaut_face: Face) -> None:
    bare = Face(box=astronaut_face.box, landmarks=astronaut_face.landmarks)
    with pytest.raises(InvalidParameter):
        identity_distance(bare, astronaut_face)
    with pytest.raises(InvalidParameter):
        identity_distance(np.zeros(3), astronaut_face)
