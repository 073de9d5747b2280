"""Fixtures of the label tests: a 1024 x 768 portrait, codecs helpers and a C2PA development chain."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from restyle.labels.devcert import DevCertFiles, write_dev_cert


def rgb_to_jpeg(image: np.ndarray, quality: int = 80) -> bytes:
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    return bytes(buf.tobytes())


def jpeg_roundtrip(image: np.ndarray, quality: int = 80) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(rgb_to_jpeg(image, quality), np.uint8), cv2.IMREAD_COLOR)
    assert bgr is not None
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def resized(image: np.ndarray, factor: float) -> np.ndarray:
    height, width = image.shape[:2]
    size = (round(width * factor), round(height * factor))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def portrait(astronaut: np.ndarray) -> np.ndarray:
    """A 1024 x 768 photo: outputs are about this size."""
    return cv2.resize(astronaut, (1024, 768), interpolation=cv2.INTER_CUBIC)


@pytest.fixture(scope="session")
def dev_cert(tmp_path_factory: pytest.TempPathFactory) -> DevCertFiles:
    return write_dev_cert(Path(tmp_path_factory.mktemp("c2pa")))
