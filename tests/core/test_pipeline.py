"""The pipeline end to end on real portraits: faces, geometry, seeds, guard reporting, errors."""

from __future__ import annotations

import numpy as np
import pytest

from restyle.domain import GenerateRequest, ImageSource
from restyle.errors import FaceNotFound, InternalError
from restyle.faces import detect_faces
from restyle.pipeline import Pipeline
from tests.conftest import encode_png


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    p = Pipeline()
    p.setup()
    return p


def request(data: bytes, **kw: object) -> GenerateRequest:
    return GenerateRequest(image=ImageSource(data=data), **kw)  # type: ignore[arg-type]


def test_result_records_identity_timings_and_seed(pipeline: Pipeline, astronaut_png: bytes) -> None:
    result = pipeline.render(request(astronaut_png, style="anime", seed=4))
    assert result.style == "anime" and result.seed == 4
    assert result.identity_distance is not None and result.identity_distance < 0.6
    assert result.faces[0].detected_in_output
    assert {"decode", "detect", "embed_input", "engine", "retouch", "guard", "encode"} <= set(result.timings_ms)
    assert result.encoded.startswith(b"\x89PNG")


def test_random_seed_is_picked_and_reported(pipeline: Pipeline, astronaut_png: bytes) -> None:
    result = pipeline.render(request(astronaut_png, style="fresh", seed=-1))
    assert 0 <= result.seed < 2**31
    again = pipeline.render(request(astronaut_png, style="fresh", seed=result.seed))
    assert again.encoded == result.encoded


def test_requested_size_is_a_face_centred_crop(pipeline: Pipeline, astronaut: np.ndarray) -> None:
    wide = np.zeros((320, 800, 3), np.uint8)
    wide[:, 480:800] = _small(astronaut)
    result = pipeline.render(request(encode_png(wide), style="anime", seed=1, width=256, height=256))
    assert (result.width, result.height) == (256, 256)
    face = result.faces[0]
    assert 40 < (face.box[0] + face.box[2]) / 2 < 216  # the face was kept, not cropped away


def _small(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.resize(image, (320, 320), interpolation=cv2.INTER_AREA)


def test_several_faces_are_all_stylized_and_measured(pipeline: Pipeline, astronaut_small: np.ndarray,
                                                      grace_hopper: np.ndarray) -> None:
    import cv2

    hopper = cv2.resize(grace_hopper[:512, :], (320, 320 * 512 // 600), interpolation=cv2.INTER_AREA)
    pair = np.full((320, 640, 3), 128, np.uint8)
    pair[:, :320] = astronaut_small
    pair[: hopper.shape[0], 320:] = hopper[:, :320]
    assert len(detect_faces(pair)) == 2
    result = pipeline.render(request(encode_png(pair), style="colorful_cartoon", seed=2))
    assert len(result.faces) == 2
    assert all(f.identity_distance is not None for f in result.faces)


def test_guard_that_cannot_pass_says_so(pipeline: Pipeline, astronaut_png: bytes) -> None:
    result = pipeline.render(request(astronaut_png, style="future_tech", seed=1, min_identity=0.05))
    assert result.faces[0].guard_applied
    assert not result.guard_passed
    assert any("could not bring it lower" in w for w in result.warnings)


def test_guard_off_measures_without_acting(pipeline: Pipeline, astronaut_png: bytes) -> None:
    result = pipeline.render(request(astronaut_png, style="future_tech", seed=1, min_identity=0.05,
                                     face_switch=False))
    assert not result.guard_applied and result.identity_distance is not None
    assert any("face_switch=false" in w for w in result.warnings)


def test_no_face_is_an_error_unless_allowed(pipeline: Pipeline) -> None:
    ramp = np.tile(np.linspace(0, 255, 200, dtype=np.uint8)[None, :, None], (160, 1, 3))
    with pytest.raises(FaceNotFound) as err:
        pipeline.render(request(encode_png(ramp)))
    assert err.value.code == "face.not_found" and "allow_no_face" in err.value.message
    result = pipeline.render(request(encode_png(ramp), allow_no_face=True))
    assert result.faces == [] and result.warnings


def test_a_url_that_reaches_the_pipeline_unfetched_is_an_internal_error(pipeline: Pipeline) -> None:
    with pytest.raises(InternalError) as err:  # the runner fetches URLs before rendering
        pipeline.render(GenerateRequest(image=ImageSource(url="http://127.0.0.1:9/x.png")))
    assert err.value.param == "image" and err.value.status == 500
