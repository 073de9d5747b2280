"""Shared fixtures: real sample portraits, encoded inputs, and a quiet, single-threaded CPU."""

from __future__ import annotations

import io
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

cv2.setNumThreads(1)


def encode_png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from restyle.samples import load_sample

    return load_sample("astronaut")


@pytest.fixture(scope="session")
def grace_hopper() -> np.ndarray:
    from restyle.samples import load_sample

    return load_sample("grace_hopper")


@pytest.fixture(scope="session")
def astronaut_small(astronaut: np.ndarray) -> np.ndarray:
    return cv2.resize(astronaut, (320, 320), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def astronaut_png(astronaut_small: np.ndarray) -> bytes:
    return encode_png(astronaut_small)
