"""The guard's redraws reuse the job's detail-free render steps and draw exactly what a fresh render would."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.domain import GenerateRequest, ImageSource
from restyle.engines.base import EngineJob
from restyle.engines.classic.context import RenderContext
from restyle.engines.classic.engine import ClassicEngine
from restyle.engines.classic.presets import find_preset
from restyle.faces import detect_faces
from restyle.faces.types import Face

SIZE = 320
REUSING = ("anime", "colorful_cartoon", "retro_comic", "sketch", "fairy_tale_3d", "oil_painting", "watercolor")


@pytest.fixture(scope="module")
def portrait(astronaut: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(cv2.resize(astronaut, (SIZE, SIZE), interpolation=cv2.INTER_AREA))


@pytest.fixture(scope="module")
def faces(portrait: np.ndarray) -> list[Face]:
    found = detect_faces(portrait)
    assert found
    return found


def _job(image: np.ndarray, faces: list[Face], style: str) -> EngineJob:
    request = GenerateRequest(image=ImageSource(data=b""), style=style, seed=3)
    return EngineJob(request, image, faces, 3, find_preset(style))


@pytest.mark.parametrize("style", REUSING)
def test_redraw_after_generate_equals_a_fresh_redraw(portrait: np.ndarray, faces: list[Face], style: str) -> None:
    engine = ClassicEngine()
    job = _job(portrait, faces, style)
    stylized = engine.generate(job).image
    assert job.cache, "the render kept none of its detail-free steps"
    reused = [engine.render_face_detail(job, stylized, d) for d in (0.5, 1.0)]
    fresh = [engine.render_face_detail(_job(portrait, faces, style), stylized, d) for d in (0.5, 1.0)]
    for a, b in zip(reused, fresh, strict=True):
        assert a is not None and b is not None
        np.testing.assert_array_equal(a, b)
    # and a second generate of the same job (every step reused) is the first one again
    np.testing.assert_array_equal(engine.generate(job).image, stylized)


def test_memo_hands_out_copies_and_follows_the_random_generator() -> None:
    cache: dict[str, object] = {}
    calls: list[int] = []

    def draw(ctx: RenderContext) -> np.ndarray:
        calls.append(1)
        return ctx.rng.random(4).astype(np.float32)

    def ctx(seed: int) -> RenderContext:
        return RenderContext(image=np.zeros((4, 4, 3), np.uint8), faces=[], rng=np.random.default_rng(seed),
                             cache=cache)  # type: ignore[arg-type]

    first = ctx(1)
    a = first.memo("noise", lambda: draw(first))
    after = first.rng.random()
    a[:] = -1.0  # painting on the handed-out copy leaves the stored result alone
    second = ctx(1)
    b = second.memo("noise", lambda: draw(second))
    assert len(calls) == 1 and (b >= 0).all()
    assert second.rng.random() == after  # the generator moved as if the step had run
    other = ctx(2)  # another generator state: the stored result does not apply
    c = other.memo("noise", lambda: draw(other))
    assert len(calls) == 2 and not np.array_equal(b, c)
    plain = RenderContext(image=np.zeros((4, 4, 3), np.uint8), faces=[], rng=np.random.default_rng(1))
    plain.memo("noise", lambda: draw(plain))
    assert len(calls) == 3  # no cache: always computed


def test_flat_redraw_keeps_hard_edged_tones(portrait: np.ndarray, faces: list[Face]) -> None:
    from restyle.engines.classic.face_detail import PALETTE_SIZE, redraw_face

    stylized = (portrait // 64 * 64 + 32).astype(np.uint8)  # a crudely posterised "cel"
    face = faces[0]
    left, top, right, bottom = face.box
    core = (slice(top + (bottom - top) // 4, bottom - (bottom - top) // 4),
            slice(left + (right - left) // 4, right - (right - left) // 4))

    def colours(image: np.ndarray) -> int:
        return len(np.unique(image[core].reshape(-1, 3), axis=0))

    soft = redraw_face(stylized, portrait, face, 1.0)
    flat = redraw_face(stylized, portrait, face, 1.0, flat=True)
    assert not np.array_equal(flat[core], stylized[core])  # the photo's structure was drawn in
    # soft: palette blurred, texture laid back; flat: palette tones plus the ink's blends only
    assert colours(flat) < colours(soft) // 2
    assert colours(flat) > PALETTE_SIZE // 2
