"""The extra presets: pencil sketch, oil painting, watercolour and studio portrait."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.engines.classic.context import RenderContext
from restyle.engines.classic.engine import load_renderer
from restyle.faces import detect_faces
from restyle.faces.types import Face

EXTRA = ["sketch", "oil_painting", "watercolor", "portrait"]
SIZE = 320


@pytest.fixture(scope="module")
def portrait(grace_hopper: np.ndarray) -> np.ndarray:
    h, w = grace_hopper.shape[:2]
    return np.ascontiguousarray(cv2.resize(grace_hopper, (SIZE, round(SIZE * h / w)), interpolation=cv2.INTER_AREA))


@pytest.fixture(scope="module")
def faces(portrait: np.ndarray) -> list[Face]:
    found = detect_faces(portrait)
    assert found, "no face found in the test portrait"
    return found


def render(style: str, image: np.ndarray, faces: list[Face], seed: int = 5, strength: float = 1.0) -> np.ndarray:
    ctx = RenderContext(image=image, faces=faces, rng=np.random.default_rng(seed), strength=strength)
    return load_renderer(style)(ctx)


@pytest.mark.parametrize("style", EXTRA)
def test_shape_dtype_determinism(style: str, portrait: np.ndarray, faces: list[Face]) -> None:
    out = render(style, portrait, faces)
    assert out.shape == portrait.shape and out.dtype == np.uint8
    assert render(style, portrait, faces).tobytes() == out.tobytes()
    assert np.abs(out.astype(np.int16) - portrait).mean() > 4.0


@pytest.mark.parametrize("style", EXTRA)
def test_face_keeps_its_luminance_structure(style: str, portrait: np.ndarray, faces: list[Face]) -> None:
    left, top, right, bottom = faces[0].box
    before = cv2.cvtColor(portrait[top:bottom, left:right], cv2.COLOR_RGB2GRAY).astype(np.float32)
    after = cv2.cvtColor(render(style, portrait, faces)[top:bottom, left:right], cv2.COLOR_RGB2GRAY)
    correlation = np.corrcoef(before.ravel(), after.astype(np.float32).ravel())[0, 1]
    assert correlation > 0.6


@pytest.mark.parametrize("style", EXTRA)
def test_strength_zero_is_the_photo_and_no_face_works(style: str, portrait: np.ndarray, faces: list[Face]) -> None:
    assert np.abs(render(style, portrait, faces, strength=0.0).astype(np.int16) - portrait).max() <= 1
    ys, xs = np.mgrid[0:96, 0:128]
    synthetic = np.stack([xs * 2, ys * 2, (xs + ys) % 255], -1).astype(np.uint8)
    out = render(style, synthetic, [])
    assert out.shape == synthetic.shape and out.dtype == np.uint8


@pytest.mark.parametrize("style", ["sketch", "watercolor", "oil_painting"])
def test_seed_changes_textured_presets(style: str, portrait: np.ndarray, faces: list[Face]) -> None:
    assert render(style, portrait, faces, seed=1).tobytes() != render(style, portrait, faces, seed=2).tobytes()


def test_sketch_is_grey_on_paper(portrait: np.ndarray, faces: list[Face]) -> None:
    out = render("sketch", portrait, faces).astype(np.int16)
    assert np.abs(out[..., 0] - out[..., 2]).mean() < 12
    assert np.percentile(out, 90) > 200  # paper shows between the strokes


def test_portrait_blurs_the_background(portrait: np.ndarray, faces: list[Face]) -> None:
    out = render("portrait", portrait, faces)

    def detail(img: np.ndarray) -> float:
        gray = cv2.cvtColor(img[:80, :80], cv2.COLOR_RGB2GRAY)
        return float(np.abs(cv2.Laplacian(gray, cv2.CV_32F)).mean())

    assert detail(out) < 0.6 * detail(portrait)
