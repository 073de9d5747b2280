"""The ten numbered presets (wanx style_index 0-9) of the classic engine."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from restyle.domain import GenerateRequest, ImageSource
from restyle.engines.base import EngineJob
from restyle.engines.classic.context import RenderContext
from restyle.engines.classic.engine import ClassicEngine, load_renderer
from restyle.engines.classic.presets import find_preset
from restyle.faces import detect_face_in_region, detect_faces, embed_face, identity_distance, identity_guard
from restyle.faces.types import Face

GUARDED_IN_STYLE = ["fresh", "future_tech", "chinese_painting", "elegant_chinese", "new_year",
                    "anime", "colorful_cartoon", "retro_comic", "fairy_tale_3d"]
NUMBERED = ["retro_comic", "fairy_tale_3d", "anime", "fresh", "future_tech", "chinese_painting", "general",
            "colorful_cartoon", "elegant_chinese", "new_year"]
SIZE = 320


def render(style: str, image: np.ndarray, faces: list[Face], seed: int = 7,
           strength: float = 1.0, detail: float = 0.0) -> np.ndarray:
    ctx = RenderContext(image=image, faces=faces, rng=np.random.default_rng(seed), strength=strength,
                        detail=detail)
    return load_renderer(style)(ctx)


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture(scope="module")
def portrait(grace_hopper: np.ndarray) -> np.ndarray:
    h, w = grace_hopper.shape[:2]
    size = (SIZE, round(SIZE * h / w))
    return np.ascontiguousarray(cv2.resize(grace_hopper, size, interpolation=cv2.INTER_AREA))


@pytest.fixture(scope="module")
def faces(portrait: np.ndarray) -> list[Face]:
    found = detect_faces(portrait)
    assert found, "no face found in the test portrait"
    return found


@pytest.fixture(scope="module")
def rendered(portrait: np.ndarray, faces: list[Face]) -> dict[str, np.ndarray]:
    return {style: render(style, portrait, faces) for style in NUMBERED}


@pytest.mark.parametrize("style", NUMBERED)
def test_shape_dtype_and_determinism(style: str, portrait: np.ndarray, faces: list[Face],
                                     rendered: dict[str, np.ndarray]) -> None:
    out = rendered[style]
    assert out.shape == portrait.shape and out.dtype == np.uint8
    assert render(style, portrait, faces).tobytes() == out.tobytes()
    assert mean_abs_diff(out, portrait) > 8.0


def test_presets_look_different_from_each_other(rendered: dict[str, np.ndarray]) -> None:
    for a, b in itertools.combinations(NUMBERED, 2):
        assert mean_abs_diff(rendered[a], rendered[b]) > 8.0, (a, b)


@pytest.mark.parametrize("style", NUMBERED)
def test_same_person_after_restyling(style: str, portrait: np.ndarray, faces: list[Face],
                                     rendered: dict[str, np.ndarray]) -> None:
    out = rendered[style]
    if style in GUARDED_IN_STYLE:
        # The preset stylizes the face like the rest and leaves identity to the guard's style steps
        # (the engine's render_face_detail): it must pass there without any photo blend.
        reference = [faces[0].with_embedding(embed_face(portrait, faces[0]))]
        engine = ClassicEngine()
        job = EngineJob(GenerateRequest(image=ImageSource(data=b""), style=style), portrait, faces, 7,
                        find_preset(style))
        _, (report,) = identity_guard(
            portrait, out, reference, threshold=0.5,
            rerender=lambda detail: engine.render_face_detail(job, out, detail),
        )
        assert report.guard_passed and report.detected_in_output and report.blend_steps == 0, report
        return
    again = detect_face_in_region(out, faces[0].box)
    assert again is not None, "the face is no longer detected"
    distance = identity_distance(embed_face(portrait, faces[0]), embed_face(out, again))
    assert distance < 0.5


@pytest.mark.parametrize("style", NUMBERED)
def test_strength_scales_the_effect(style: str, portrait: np.ndarray, faces: list[Face],
                                    rendered: dict[str, np.ndarray]) -> None:
    assert np.abs(render(style, portrait, faces, strength=0.0).astype(np.int16) - portrait).max() <= 1
    half = mean_abs_diff(render(style, portrait, faces, strength=0.5), portrait)
    full = mean_abs_diff(rendered[style], portrait)
    assert 0.3 * full < half < 0.7 * full


@pytest.mark.parametrize("style", NUMBERED)
def test_without_faces_and_on_odd_sizes(style: str) -> None:
    ys, xs = np.mgrid[0:96, 0:130]
    synthetic = np.stack([xs * 2, ys * 2, (xs * ys) % 255], -1).astype(np.uint8)
    out = render(style, synthetic, [])
    assert out.shape == synthetic.shape and out.dtype == np.uint8
    assert mean_abs_diff(out, synthetic) > 3.0
    for h, w in ((17, 23), (3, 2), (1, 1)):
        tiny = synthetic[:h, :w].copy()
        assert render(style, tiny, []).shape == tiny.shape


@pytest.fixture(scope="module")
def pair(portrait: np.ndarray) -> tuple[np.ndarray, list[Face]]:
    image = np.ascontiguousarray(np.concatenate([portrait, portrait[:, ::-1]], axis=1))
    found = detect_faces(image)
    assert len(found) == 2
    return image, found


@pytest.mark.parametrize("style", NUMBERED)
def test_two_faces(style: str, pair: tuple[np.ndarray, list[Face]]) -> None:
    image, faces = pair
    out = render(style, image, faces)
    assert out.shape == image.shape and out.dtype == np.uint8
    for face in faces:
        left, top, right, bottom = face.box
        assert mean_abs_diff(out[top:bottom, left:right], image[top:bottom, left:right]) > 3.0


def _chroma(image: np.ndarray) -> float:
    i = image.astype(np.int16)
    return float((np.abs(i[..., 0] - i[..., 1]) + np.abs(i[..., 1] - i[..., 2]) + np.abs(i[..., 0] - i[..., 2])).mean() / 3)


def _detail(image: np.ndarray) -> float:
    return float(np.abs(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.CV_32F)).mean())


def test_anime_is_a_light_figure_on_a_soft_backdrop(portrait: np.ndarray, rendered: dict[str, np.ndarray]) -> None:
    anime = rendered["anime"]
    # the scene behind the figure (top-left corner: flag) is a few flat pale tones without outlines;
    # the cartoon outlines its regions there too
    corner = anime[:60, :60].reshape(-1, 3)
    assert len(np.unique(corner, axis=0)) <= 12 < len(np.unique(portrait[:60, :60].reshape(-1, 3), axis=0))
    assert (corner.max(axis=1) < 60).sum() == 0
    assert (rendered["colorful_cartoon"][:60, :60].max(axis=2) < 60).sum() > 50
    # a light palette, unlike the colourful cartoon's dark saturated one
    assert anime.mean() > rendered["colorful_cartoon"].mean() + 20


def test_fairy_tale_3d_blurs_the_scene(portrait: np.ndarray, rendered: dict[str, np.ndarray]) -> None:
    assert _detail(rendered["fairy_tale_3d"][:60, :60]) < 0.3 * _detail(portrait[:60, :60])


def test_ink_wash_is_grey_on_white_paper_and_gongbi_has_colour(rendered: dict[str, np.ndarray]) -> None:
    ink = rendered["chinese_painting"].copy()
    h, w = ink.shape[:2]
    red = ink[..., 0].astype(np.int16) - ink[..., 2]
    assert (red > 80).sum() > 100  # the red seal
    ink[int(h * 0.8):, :int(w * 0.25)] = 255
    ink[int(h * 0.8):, int(w * 0.75):] = 255
    assert _chroma(ink) < 10  # grey ink everywhere else
    assert np.percentile(ink, 90) > 230  # lots of white paper
    assert _chroma(rendered["elegant_chinese"]) > _chroma(ink) + 4  # mineral colours
