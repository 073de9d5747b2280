"""The bench's independent identity probe on a real public-domain portrait (skimage's astronaut)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from bench.identity_probe import distance, probe

FACE = (168, 69, 263, 164)  # the hand-labelled box of bench/data/faces.tsv


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.ascontiguousarray(data.astronaut())


def test_probe_finds_the_labelled_face_and_embeds_it(astronaut: np.ndarray) -> None:
    found = probe(astronaut, FACE)
    assert found.detected and found.box is not None and found.embedding is not None
    assert found.embedding.shape == (128,)
    again = probe(cv2.GaussianBlur(astronaut, (0, 0), 1.0), FACE)
    assert again.embedding is not None
    assert distance(found.embedding, again.embedding) < 0.3


def test_probe_finds_nothing_where_no_face_is(astronaut: np.ndarray) -> None:
    badge = (120, 337, 213, 430)  # the mission patch on the suit that HOG scores as a weak face
    assert not probe(astronaut, badge).detected
    flat = np.full_like(astronaut, 128)
    assert not probe(flat, FACE).detected
    assert probe(flat, FACE, fallback_to_label=True).embedding is not None
