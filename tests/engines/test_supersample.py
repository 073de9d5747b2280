"""Small faces are drawn on an enlarged copy; big photos and big faces are rendered as they are."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.domain import GenerateRequest, ImageSource
from restyle.engines.base import EngineJob
from restyle.engines.classic import supersample
from restyle.engines.classic.engine import ClassicEngine
from restyle.engines.classic.presets import find_preset
from restyle.faces import detect_faces
from restyle.faces.types import Face


def _face(width: int) -> Face:
    return Face((10, 10, 10 + width, 10 + width), np.zeros((68, 2), np.float32))


def test_factor_follows_the_smallest_face_within_the_pixel_budget() -> None:
    assert supersample.factor((400, 400), [_face(60)]) == 2.0
    assert supersample.factor((400, 400), [_face(200), _face(80)]) == pytest.approx(1.5)
    assert supersample.factor((400, 400), [_face(110)]) == 1.0  # under MIN_FACTOR: not worth it
    assert supersample.factor((400, 400), []) == 1.0
    assert supersample.factor((1000, 1000), [_face(60)]) == 1.0  # a 1 MP photo is not enlarged
    by = supersample.factor((600, 800), [_face(50)])
    assert by == pytest.approx(np.sqrt(1_000_000 / 480_000))


def test_small_face_rendered_enlarged_and_returned_at_its_size(astronaut: np.ndarray) -> None:
    small = np.ascontiguousarray(cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA))
    faces = detect_faces(small)
    assert faces and faces[0].width < 100
    request = GenerateRequest(image=ImageSource(data=b""), style="anime", seed=2)
    job = EngineJob(request, small, faces, 2, find_preset("anime"))
    out = ClassicEngine().generate(job)
    assert out.image.shape == small.shape and out.info["supersample"] > 1.25
    big, big_faces = job.cache["supersample"]
    assert big.shape[0] > small.shape[0] and big_faces[0].width > faces[0].width
