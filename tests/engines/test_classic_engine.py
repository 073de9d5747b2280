"""The classic engine's orchestration: preset choice, modes, backgrounds, style image, determinism."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.domain import GenerateRequest, ImageSource, ReferenceMode
from restyle.engines.base import EngineJob, EngineOutput
from restyle.engines.classic import background
from restyle.engines.classic.engine import ClassicEngine
from restyle.engines.classic.presets import find_preset
from restyle.engines.classic.style_transfer import measure_style, to_lab
from restyle.faces import detect_faces
from restyle.faces.types import Face

SIZE = 384


@pytest.fixture(scope="module")
def portrait(astronaut: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(cv2.resize(astronaut, (SIZE, SIZE), interpolation=cv2.INTER_AREA))


@pytest.fixture(scope="module")
def faces(portrait: np.ndarray) -> list[Face]:
    found = detect_faces(portrait)
    assert found, "no face found in the test portrait"
    return found


@pytest.fixture(scope="module")
def style_image() -> np.ndarray:
    """A saturated blue-violet 'painting': far from the portrait's colours."""
    ys, xs = np.mgrid[0:160, 0:200].astype(np.float32)
    img = np.stack([60 + 80 * np.sin(xs / 17.0) ** 2, 30 + 0 * ys, 150 + 100 * np.cos(ys / 23.0) ** 2], -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def run(image: np.ndarray, faces: list[Face], *, style: str | None = None, seed: int = 7,
        style_image: np.ndarray | None = None, **fields: object) -> EngineOutput:
    request = GenerateRequest(image=ImageSource(data=b""), style=style, seed=seed, **fields)  # type: ignore[arg-type]
    job = EngineJob(request, image, faces, seed, find_preset(style) if style else None, style_image)
    out = ClassicEngine().generate(job)
    assert out.image.shape == image.shape and out.image.dtype == np.uint8
    return out


def box_slices(face: Face, shrink: float = 0.2) -> tuple[slice, slice]:
    left, top, right, bottom = face.box
    dx, dy = int((right - left) * shrink), int((bottom - top) * shrink)
    return slice(top + dy, bottom - dy), slice(left + dx, right - dx)


def test_preset_from_prompt_request_style_image_default(portrait: np.ndarray, faces: list[Face],
                                                        style_image: np.ndarray) -> None:
    out = run(portrait, faces, prompt="an oil painting, warm", mode=ReferenceMode.REFERENCE)
    assert out.info["style"] == "oil_painting" and out.info["style_source"] == "prompt"
    assert out.prompt_words_used == ["oil painting", "warm"] and out.info["modifiers"] == {"warm": 1.0}
    assert run(portrait, faces, prompt="铅笔素描").info["style"] == "sketch"
    assert run(portrait, faces, style="watercolor", prompt="sketch").info["style"] == "watercolor"
    painterly = run(portrait, faces, style_image=style_image)
    assert painterly.info["style_source"] == "style_image" and painterly.info["style_image"] is not None
    assert run(portrait, faces, style="sketch").info["style_source"] == "request"
    assert ClassicEngine().catalog().find("水彩").name == "watercolor"


def test_default_style_without_anything(portrait: np.ndarray, faces: list[Face]) -> None:
    out = run(portrait, faces)
    assert out.info["style"] == "anime" and out.info["mode"] == "reference"


def test_deterministic_for_a_seed(portrait: np.ndarray, faces: list[Face]) -> None:
    first = run(portrait, faces, style="watercolor", seed=3, mode=ReferenceMode.REFERENCE_CHAR)
    again = run(portrait, faces, style="watercolor", seed=3, mode=ReferenceMode.REFERENCE_CHAR)
    other = run(portrait, faces, style="watercolor", seed=4, mode=ReferenceMode.REFERENCE_CHAR)
    assert first.image.tobytes() == again.image.tobytes()
    assert first.image.tobytes() != other.image.tobytes()


def test_reference_char_replaces_background_keeps_face(portrait: np.ndarray, faces: list[Face]) -> None:
    kept = run(portrait, faces, style="portrait", mode=ReferenceMode.REFERENCE).image.astype(np.int16)
    char = run(portrait, faces, style="portrait", mode=ReferenceMode.REFERENCE_CHAR)
    assert char.info["background"] == "bokeh"
    replaced = char.image.astype(np.int16)
    inside = np.abs(replaced[box_slices(faces[0])] - kept[box_slices(faces[0])]).mean()
    corner = np.abs(replaced[:60, -60:] - kept[:60, -60:]).mean()
    assert inside < 3.0
    assert corner > 20.0


def test_creative_mode_simplifies_the_scene(portrait: np.ndarray, faces: list[Face]) -> None:
    ref = run(portrait, faces, style="oil_painting", mode=ReferenceMode.REFERENCE).image
    creative = run(portrait, faces, style="oil_painting", mode=ReferenceMode.CREATIVE)
    assert creative.info["background"] == "simplified"

    def detail(img: np.ndarray) -> float:
        gray = cv2.cvtColor(img[:120, -120:], cv2.COLOR_RGB2GRAY)
        return float(np.abs(cv2.Laplacian(gray, cv2.CV_32F)).mean())

    assert detail(creative.image) < detail(ref)


def _lab_mean(image: np.ndarray) -> np.ndarray:
    return to_lab(image).reshape(-1, 3).mean(0)


def test_style_image_moves_colours_towards_it(portrait: np.ndarray, faces: list[Face],
                                              style_image: np.ndarray) -> None:
    target = np.array(measure_style(style_image).mean)
    plain = run(portrait, faces, style="oil_painting", style_image=style_image, style_switch=False)
    assert plain.info["style_image"] is None
    styled = run(portrait, faces, style="oil_painting", style_image=style_image)
    assert np.linalg.norm(_lab_mean(styled.image) - target) < 0.5 * np.linalg.norm(_lab_mean(plain.image) - target)
    assert styled.info["style_image"]["palette_lab"]


def test_facestyle_switch_keeps_the_face_colours(portrait: np.ndarray, faces: list[Face],
                                                 style_image: np.ndarray) -> None:
    face = box_slices(faces[0])
    original = to_lab(portrait[face])
    moved = run(portrait, faces, style="oil_painting", style_image=style_image).image
    kept = run(portrait, faces, style="oil_painting", style_image=style_image, facestyle_switch=True).image

    def ab_error(img: np.ndarray) -> float:
        return float(np.abs(to_lab(img[face])[..., 1:] - original[..., 1:]).mean())

    assert ab_error(kept) < 0.5 * ab_error(moved)


def test_person_mask_separates_person_from_scene(portrait: np.ndarray, faces: list[Face]) -> None:
    mask = background.person_mask(portrait, faces)
    assert mask.shape == portrait.shape[:2] and mask.dtype == np.float32
    assert float(mask.min()) >= 0.0 and float(mask.max()) <= 1.0
    cx, cy = (int(v) for v in faces[0].center)
    assert mask[cy, cx] > 0.9
    assert mask[:20, :20].mean() < 0.1 and mask[:20, -20:].mean() < 0.1
    assert background.person_mask(portrait, faces).tobytes() == mask.tobytes()
    no_face = background.person_mask(portrait, [])
    assert no_face.shape == mask.shape and no_face[:10].max() < 0.2


@pytest.mark.parametrize("style", sorted(background.GENERATORS))
def test_procedural_backgrounds(style: str, faces: list[Face]) -> None:
    first = background.procedural_background(style, (SIZE, SIZE), faces, np.random.default_rng(1))
    again = background.procedural_background(style, (SIZE, SIZE), faces, np.random.default_rng(1))
    assert first.shape == (SIZE, SIZE, 3) and first.dtype == np.uint8
    assert first.tobytes() == again.tobytes()
    assert float(first.std()) > 5.0
