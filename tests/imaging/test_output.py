from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restyle.config import ImageLimits
from restyle.domain import OutputFormat
from restyle.errors import InvalidParameter, ParameterOutOfRange
from restyle.imaging.output import OutputRule, apply_geometry, crop_to_aspect, output_rule, plan_geometry


def test_no_size_keeps_input_and_caps_long_side() -> None:
    assert plan_geometry((800, 600), None, None, None).width == 800
    capped = plan_geometry((4000, 3000), None, None, None, max_side=2048)
    assert (capped.width, capped.height) == (2048, 1536)


def test_one_side_keeps_aspect() -> None:
    g = plan_geometry((800, 600), None, 400, None)
    assert (g.width, g.height) == (400, 300)


def test_crop_is_centred_on_the_face_within_borders() -> None:
    g = plan_geometry((1000, 500), (800.0, 250.0), 256, 256)
    assert g.crop == (500, 0, 1000, 500)  # as central as the right border allows
    assert (g.width, g.height) == (256, 256)
    left = plan_geometry((1000, 500), (30.0, 250.0), 256, 256)
    assert left.crop[0] == 0


def test_apply_geometry_gives_requested_size() -> None:
    image = np.zeros((500, 1000, 3), np.uint8)
    out = apply_geometry(image, plan_geometry((1000, 500), (500.0, 250.0), 300, 200))
    assert out.shape == (200, 300, 3)


def test_one_side_never_makes_the_other_exceed_the_limits() -> None:
    tall = plan_geometry((100, 800), (50.0, 200.0), 2048, None, max_side=2048, min_side=64)
    assert (tall.width, tall.height) == (2048, 2048)  # the crop is square, around the face
    assert tall.crop == (0, 150, 100, 250)
    wide = plan_geometry((4000, 100), None, None, 2048, max_side=2048, min_side=64)
    assert (wide.width, wide.height) == (2048, 2048)
    thin = plan_geometry((4000, 50), None, 100, None, max_side=2048, min_side=64)
    assert (thin.width, thin.height) == (100, 64)


# --- output rules per front (issue 7) -----------------------------------------------------------

IMAGES = ImageLimits()
WANX = output_rule("dashscope", IMAGES)
PORTRAIT = output_rule("portrait", IMAGES)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1000, 800), (1920, 1536)),  # up to 1.5:1: short side 1536, ratio kept
        ((800, 1000), (1536, 1920)),
        ((256, 256), (1536, 1536)),
        ((1500, 1000), (2304, 1536)),  # exactly 1.5:1
        ((3000, 1000), (2304, 1536)),  # wider: cropped to 1.5:1
        ((1000, 3000), (1536, 2304)),
    ],
)
def test_wanx_output_sizes(size: tuple[int, int], expected: tuple[int, int]) -> None:
    geometry = plan_geometry(size, None, 640, 480, rule=WANX)  # wanx takes no width/height: ignored
    assert (geometry.width, geometry.height) == expected
    left, top, right, bottom = geometry.crop
    assert abs((right - left) / (bottom - top) - expected[0] / expected[1]) < 0.01


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    width=st.integers(256, 5760),
    height=st.integers(256, 5760),
    fx=st.floats(0.0, 1.0),
    fy=st.floats(0.0, 1.0),
)
def test_wanx_crop_keeps_the_face(width: int, height: int, fx: float, fy: float) -> None:
    face = (fx * width, fy * height)
    left, top, right, bottom = plan_geometry((width, height), face, None, None, rule=WANX).crop
    assert 0 <= left <= face[0] <= right <= width and 0 <= top <= face[1] <= bottom <= height
    assert max(right - left, bottom - top) / min(right - left, bottom - top) <= 1.5 + 0.01


def test_wanx_crop_keeps_a_real_face(astronaut: np.ndarray) -> None:
    from restyle.faces.detect import detect_faces

    small = cv2.resize(astronaut, (384, 384), interpolation=cv2.INTER_AREA)
    canvas = np.full((384, 1400, 3), 200, np.uint8)
    canvas[:, 1000:1384] = small  # the face far right on a 3.6:1 strip
    faces = detect_faces(canvas)
    assert faces
    geometry = plan_geometry((1400, 384), faces[0].center, None, None, rule=WANX)
    output = apply_geometry(canvas, geometry)
    assert output.shape == (1536, 2304, 3)
    assert detect_faces(output)
    centred = plan_geometry((1400, 384), None, None, None, rule=WANX)
    assert centred.crop[2] < faces[0].box[0]  # without the face position the crop would miss it


def test_portrait_photography_defaults_and_range() -> None:
    default = plan_geometry((1000, 800), (700.0, 400.0), None, None, rule=PORTRAIT)
    assert (default.width, default.height, default.crop) == (1328, 1328, (200, 0, 1000, 800))
    one = plan_geometry((1000, 800), None, 1024, None, rule=PORTRAIT)
    assert (one.width, one.height) == (1024, 1328)  # each side defaults on its own
    for width, height, param in ((511, 1024, "width"), (1024, 2049, "height")):
        with pytest.raises(ParameterOutOfRange) as err:
            plan_geometry((1000, 800), None, width, height, rule=PORTRAIT)
        assert err.value.param == param and "between 512 and 2048" in err.value.message


@pytest.mark.parametrize("front", ["native", "volc", "imagex", "tos"])
def test_native_bounds_for_fronts_that_state_none(front: str) -> None:
    rule = output_rule(front, ImageLimits(max_output_side=1024, min_output_side=100))
    assert (rule.min_side, rule.max_side, rule.short_side) == (100, 1024, None)
    for request in [(None, None), (640, None), (None, 640), (300, 200)]:
        ruled = plan_geometry((4000, 3000), (100.0, 100.0), *request, rule=rule)
        assert ruled == plan_geometry((4000, 3000), (100.0, 100.0), *request, 1024, 100)
    with pytest.raises(ParameterOutOfRange, match="between 100 and 1024"):
        plan_geometry((4000, 3000), None, 1025, None, rule=rule)


def test_output_formats_per_rule() -> None:
    rule = output_rule("native", IMAGES)
    for fmt in OutputFormat:
        rule.check_format(fmt)
    narrow = OutputRule("narrow", formats=(OutputFormat.PNG,))
    with pytest.raises(InvalidParameter, match="returns png"):
        narrow.check_format(OutputFormat.JPEG)
    with pytest.raises(InvalidParameter, match="not known"):
        output_rule("midjourney", IMAGES)


def test_crop_to_aspect() -> None:
    image = np.arange(300 * 900 * 3, dtype=np.uint32).reshape(300, 900, 3)
    assert crop_to_aspect(image, 3.0, None) is image  # within the ratio: untouched
    centred = crop_to_aspect(image, 1.5, None)
    assert centred.shape == (300, 450, 3) and np.array_equal(centred, image[:, 225:675])
    right = crop_to_aspect(image, 1.5, (880.0, 10.0))
    assert np.array_equal(right, image[:, 450:])
    tall = crop_to_aspect(image.transpose(1, 0, 2), 1.5, (150.0, 100.0))
    assert tall.shape == (450, 300, 3) and np.array_equal(tall, image.transpose(1, 0, 2)[:450])
