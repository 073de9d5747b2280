"""Fixtures of the face toolkit tests: detected faces (with embeddings) on the sample portraits."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.faces import Face, detect_faces, embed_face


def detect_one(image: np.ndarray) -> Face:
    """The main face of ``image`` with its embedding; fails the test when there is none."""
    faces = detect_faces(image)
    assert faces, "no face found"
    return faces[0].with_embedding(embed_face(image, faces[0]))


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` after a JPEG round trip at ``quality``."""
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="session")
def astronaut_face(astronaut: np.ndarray) -> Face:
    return detect_one(astronaut)


@pytest.fixture(scope="session")
def grace_face(grace_hopper: np.ndarray) -> Face:
    return detect_one(grace_hopper)
