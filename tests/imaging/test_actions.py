"""Each processing action against the pixels or geometry it must produce, and the pipeline's bounds."""

from __future__ import annotations

import io
import json
import time
from typing import ClassVar

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from restyle.errors import (
    ActionDeadline,
    ActionError,
    ActionOutOfRange,
    ActionTooLarge,
    ImageDecodeError,
    RestyleError,
)
from restyle.imaging.actions import Action, Metadata, ProcessedImage, process_image, register
from restyle.imaging.actions.base import _loaded
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import encode_base64url

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)


def quadrants(width: int = 400, height: int = 300) -> np.ndarray:
    """Top-left red, top-right green, bottom-left blue, bottom-right yellow."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[: height // 2, : width // 2] = RED
    image[: height // 2, width // 2 :] = GREEN
    image[height // 2 :, : width // 2] = BLUE
    image[height // 2 :, width // 2 :] = YELLOW
    return image


def encode(pixels: np.ndarray, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def pixels_of(result: ProcessedImage) -> np.ndarray:
    image = Image.open(io.BytesIO(result.data))
    assert image.size == (result.width, result.height)
    return np.asarray(image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB"))


@pytest.fixture(scope="module")
def quad_png() -> bytes:
    return encode(quadrants())


@pytest.fixture(scope="module")
def photo_jpeg(astronaut: np.ndarray) -> bytes:
    return encode(cv2.resize(astronaut, (800, 600), interpolation=cv2.INTER_AREA), "JPEG", quality=90)


def near(pixel: np.ndarray, colour: tuple[int, ...], tolerance: int = 8) -> bool:
    return bool(np.all(np.abs(pixel[: len(colour)].astype(int) - np.array(colour)) <= tolerance))


# --- resize ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actions", "size"),
    [
        ("resize,w_200", (200, 150)),
        ("resize,h_150", (200, 150)),
        ("resize,w_200,h_200", (200, 150)),
        ("resize,m_lfit,w_200,h_200", (200, 150)),
        ("resize,m_mfit,w_200,h_200", (267, 200)),
        ("resize,m_fill,w_200,h_200", (200, 200)),
        ("resize,m_pad,w_200,h_200", (200, 200)),
        ("resize,m_fixed,w_200,h_100", (200, 100)),
        ("resize,p_50", (200, 150)),
        ("resize,l_200", (200, 150)),
        ("resize,s_150", (200, 150)),
        ("resize,l_100,s_100", (100, 75)),
        ("resize,w_800", (400, 300)),  # limit_1 (default): never enlarged
        ("resize,w_800,limit_0", (800, 600)),
        ("resize,p_200", (400, 300)),
        ("resize,p_200,limit_0", (800, 600)),
        ("resize,m_fixed,w_800,h_100", (400, 300)),
    ],
)
def test_resize_modes_give_the_documented_sizes(quad_png: bytes, actions: str, size: tuple[int, int]) -> None:
    result = process_image(quad_png, "image/" + actions)
    assert (result.width, result.height) == size
    assert pixels_of(result).shape[:2] == (size[1], size[0])


def test_pad_fills_with_its_colour_and_fill_crops_the_centre(quad_png: bytes) -> None:
    padded = pixels_of(process_image(quad_png, "image/resize,m_pad,w_200,h_200,color_FF00FF"))
    assert near(padded[5, 100], (255, 0, 255)) and near(padded[194, 100], (255, 0, 255))
    assert near(padded[40, 40], RED) and near(padded[160, 160], YELLOW)
    filled = pixels_of(process_image(quad_png, "image/resize,m_fill,w_100,h_100"))
    # a 133x100 cover cropped to its centre keeps all four quadrants, each about a quarter
    assert near(filled[5, 5], RED) and near(filled[5, 94], GREEN) and near(filled[94, 5], BLUE)


def test_a_shrunk_jpeg_is_decoded_in_draft_and_looks_like_a_full_resize(photo_jpeg: bytes) -> None:
    result = process_image(photo_jpeg, "image/resize,w_100/format,png")
    full = np.asarray(Image.open(io.BytesIO(photo_jpeg)).convert("RGB"))
    expected = cv2.resize(full, (100, 75), interpolation=cv2.INTER_AREA)
    assert (result.width, result.height) == (100, 75)
    assert np.abs(pixels_of(result).astype(int) - expected.astype(int)).mean() < 3


# --- crop, indexcrop ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actions", "colour", "size"),
    [
        ("crop,w_100,h_100", RED, (100, 100)),
        ("crop,w_100,h_100,g_ne", GREEN, (100, 100)),  # origin (266, 0)
        ("crop,w_100,h_100,g_sw", BLUE, (100, 100)),  # origin (0, 200)
        ("crop,w_100,h_100,g_se", YELLOW, (100, 100)),  # origin (266, 200), stops at the edge
        ("crop,x_250,y_200,w_50,h_50", YELLOW, (50, 50)),
        ("crop,x_350,w_100", GREEN, (50, 300)),  # past the right edge: stops there
        ("crop,g_east,w_10,h_10", GREEN, (10, 10)),  # origin (266, 100)
    ],
)
def test_crop_gravity_origins(
    quad_png: bytes, actions: str, colour: tuple[int, int, int], size: tuple[int, int]
) -> None:
    result = process_image(quad_png, "image/" + actions)
    out = pixels_of(result)
    assert (result.width, result.height) == size
    assert near(out[0, 0], colour) and near(out[-1, -1], colour if size != (50, 300) else YELLOW)


def test_crop_origin_outside_the_image_is_an_error(quad_png: bytes) -> None:
    with pytest.raises(ActionOutOfRange, match="outside the 400x300 image"):
        process_image(quad_png, "image/crop,x_400,w_10")


def test_indexcrop_keeps_one_strip(quad_png: bytes) -> None:
    strip = process_image(quad_png, "image/indexcrop,x_100,i_3")
    assert (strip.width, strip.height) == (100, 300) and near(pixels_of(strip)[0, 0], GREEN)
    row = process_image(quad_png, "image/indexcrop,y_100,i_2")
    assert (row.width, row.height) == (400, 100) and near(pixels_of(row)[50, 350], YELLOW)
    past = process_image(quad_png, "image/indexcrop,x_100,i_9")  # past the last strip: unchanged
    assert (past.width, past.height) == (400, 300)


# --- rotate, flip, orientation ----------------------------------------------------------------


def test_rotate_90_turns_clockwise(quad_png: bytes) -> None:
    result = process_image(quad_png, "image/rotate,90")
    out = pixels_of(result)
    assert (result.width, result.height) == (300, 400)
    assert near(out[0, -1], RED) and near(out[0, 0], BLUE) and near(out[-1, -1], GREEN)
    assert near(pixels_of(process_image(quad_png, "image/rotate,180"))[0, 0], YELLOW)


def test_rotate_45_grows_the_canvas_and_fills_transparent_or_white(quad_png: bytes) -> None:
    as_png = process_image(quad_png, "image/rotate,45")
    assert (as_png.width, as_png.height) == (495, 495)
    corner = pixels_of(as_png)[0, 0]
    assert corner.shape == (4,) and corner[3] == 0
    as_jpg = pixels_of(process_image(quad_png, "image/rotate,45/format,jpg"))
    assert near(as_jpg[0, 0], (255, 255, 255))


@pytest.mark.parametrize(("direction", "top_left"), [("h", GREEN), ("v", BLUE), ("both", YELLOW)])
def test_flip(quad_png: bytes, direction: str, top_left: tuple[int, int, int]) -> None:
    assert near(pixels_of(process_image(quad_png, f"image/flip,{direction}"))[0, 0], top_left)


def _rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 400x300, displayed turned 90 degrees clockwise
    exif[0x010F] = "TestCam"
    return encode(quadrants(), "JPEG", quality=95, exif=exif.tobytes())


def test_auto_orient_default_upright_and_0_keeps_the_stored_pixels() -> None:
    data = _rotated_jpeg()
    upright = process_image(data, "image/format,png")
    assert (upright.width, upright.height) == (300, 400) and near(pixels_of(upright)[0, -1], RED, 12)
    stored = process_image(data, "image/auto-orient,0/format,png")
    assert (stored.width, stored.height) == (400, 300) and near(pixels_of(stored)[0, 0], RED, 12)


def test_metadata_is_stripped_unless_passed_in() -> None:
    data = _rotated_jpeg()
    plain = Image.open(io.BytesIO(process_image(data, "image/resize,w_100").data))
    assert not plain.getexif()
    exif = Image.Exif()
    exif[0x0131] = "restyle"
    labelled = process_image(data, "image/resize,w_100", metadata=Metadata(exif=exif.tobytes()))
    assert Image.open(io.BytesIO(labelled.data)).getexif()[0x0131] == "restyle"


# --- circle, rounded corners --------------------------------------------------------------------


def test_circle_leaves_the_corners_transparent(quad_png: bytes) -> None:
    result = process_image(quad_png, "image/circle,r_100")
    out = pixels_of(result)
    assert (result.width, result.height) == (200, 200) and out.shape[2] == 4
    assert out[0, 0, 3] == 0 and out[-1, -1, 3] == 0 and out[100, 100, 3] == 255
    assert out[100, 2, 3] > 128  # the circle touches the edge midpoints
    assert process_image(quad_png, "image/circle,r_1000").width == 300  # capped at half the short side
    white = pixels_of(process_image(quad_png, "image/circle,r_100/format,jpg"))
    assert near(white[0, 0], (255, 255, 255))


def test_rounded_corners_cut_only_the_corners(quad_png: bytes) -> None:
    result = process_image(quad_png, "image/rounded-corners,r_50")
    out = pixels_of(result)
    assert (result.width, result.height) == (400, 300)
    assert out[0, 0, 3] == 0 and out[-1, -1, 3] == 0 and out[0, -1, 3] == 0 and out[-1, 0, 3] == 0
    assert out[0, 60, 3] == 255 and out[150, 200, 3] == 255 and near(out[0, 60], RED)


def test_transparent_png_input_stays_transparent_or_goes_over_white() -> None:
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)
    rgba[16:48, 16:48] = (0, 0, 255, 255)
    data = encode(rgba)
    kept = pixels_of(process_image(data, "image/resize,w_32"))
    assert kept.shape == (32, 32, 4) and kept[0, 0, 3] == 0 and kept[16, 16, 3] == 255
    flat = pixels_of(process_image(data, "image/resize,w_32/format,jpg"))
    assert near(flat[0, 0], (255, 255, 255), 16) and near(flat[16, 16], BLUE, 20)


# --- filters --------------------------------------------------------------------------------------


def test_blur_reduces_and_sharpen_raises_detail(photo_jpeg: bytes) -> None:
    base = pixels_of(process_image(photo_jpeg, "image/format,png")).astype(np.float32)
    blurred = pixels_of(process_image(photo_jpeg, "image/blur,r_5,s_3/format,png")).astype(np.float32)
    sharpened = pixels_of(process_image(photo_jpeg, "image/sharpen,200/format,png")).astype(np.float32)

    def detail(image: np.ndarray) -> float:
        return float(cv2.Laplacian(image.mean(axis=2), cv2.CV_32F).var())

    assert detail(blurred) < 0.5 * detail(base) < detail(base) < detail(sharpened)


def test_bright_and_contrast(photo_jpeg: bytes) -> None:
    base = pixels_of(process_image(photo_jpeg, "image/format,png")).astype(np.float32)
    brighter = pixels_of(process_image(photo_jpeg, "image/bright,30/format,png")).astype(np.float32)
    darker = pixels_of(process_image(photo_jpeg, "image/bright,-30/format,png")).astype(np.float32)
    assert darker.mean() < base.mean() - 40 < base.mean() + 40 < brighter.mean()
    flat = pixels_of(process_image(photo_jpeg, "image/contrast,-100/format,png"))
    assert flat.min() >= 127 and flat.max() <= 128
    stronger = pixels_of(process_image(photo_jpeg, "image/contrast,50/format,png")).astype(np.float32)
    assert stronger.std() > 1.2 * base.std()


# --- formats, quality, interlace ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "magic", "media_type"),
    [
        ("jpg", b"\xff\xd8\xff", "image/jpeg"),
        ("jpeg", b"\xff\xd8\xff", "image/jpeg"),
        ("png", b"\x89PNG\r\n\x1a\n", "image/png"),
        ("webp", b"RIFF", "image/webp"),
        ("gif", b"GIF8", "image/gif"),
        ("bmp", b"BM", "image/bmp"),
        ("avif", b"ftypavif", "image/avif"),
        ("heic", b"ftyp", "image/heic"),
    ],
)
def test_format_writes_its_magic_bytes(quad_png: bytes, fmt: str, magic: bytes, media_type: str) -> None:
    result = process_image(quad_png, f"image/resize,w_64/format,{fmt}")
    assert magic in result.data[:12] and result.media_type == media_type
    assert near(pixels_of(result)[5, 5], RED, 24)


def test_output_keeps_the_source_format_by_default(quad_png: bytes, photo_jpeg: bytes) -> None:
    assert process_image(quad_png, "image/flip,h").format == "png"
    assert process_image(photo_jpeg, "image/flip,h").format == "jpeg"


def test_quality_changes_the_size_monotonically(photo_jpeg: bytes) -> None:
    sizes = [len(process_image(photo_jpeg, f"image/quality,Q_{q}").data) for q in (20, 50, 80, 95)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1] / 2
    webp = [len(process_image(photo_jpeg, f"image/format,webp/quality,Q_{q}").data) for q in (20, 80)]
    assert webp[0] < webp[1]


def test_relative_quality_scales_the_source_quality(photo_jpeg: bytes) -> None:
    # the source was saved at quality 90, so q_50 is Q_45
    assert (
        process_image(photo_jpeg, "image/quality,q_50").data
        == process_image(photo_jpeg, "image/quality,Q_45").data
    )


def test_quality_and_interlace_on_formats_without_them_are_errors(quad_png: bytes) -> None:
    with pytest.raises(ActionError, match="not png"):
        process_image(quad_png, "image/quality,Q_50")
    with pytest.raises(ActionError, match="not webp"):
        process_image(quad_png, "image/format,webp/interlace,1")


def test_interlace_writes_progressive_jpeg_and_adam7_png(quad_png: bytes, photo_jpeg: bytes) -> None:
    progressive = Image.open(io.BytesIO(process_image(photo_jpeg, "image/interlace,1").data))
    assert progressive.info.get("progressive") or progressive.info.get("progression")
    interlaced = process_image(photo_jpeg, "image/resize,w_123/format,png/interlace,1")
    plain = process_image(photo_jpeg, "image/resize,w_123/format,png")
    assert Image.open(io.BytesIO(interlaced.data)).info.get("interlace") == 1
    assert np.array_equal(pixels_of(interlaced), pixels_of(plain))


# --- watermark --------------------------------------------------------------------------------


def _grey_png() -> bytes:
    return encode(np.full((200, 300, 3), 128, dtype=np.uint8))


def test_text_watermark_changes_the_bottom_right_corner_only() -> None:
    text = encode_base64url("restyle")
    out = pixels_of(process_image(_grey_png(), f"image/watermark,text_{text},size_30,color_FF0000,shadow_50"))
    changed = np.argwhere(np.any(out != 128, axis=2))
    assert len(changed) > 50
    assert changed[:, 0].min() > 100 and changed[:, 1].min() > 150  # rows, columns in the se quarter
    assert changed[:, 0].max() <= 190 and changed[:, 1].max() <= 290  # 10-pixel margins
    assert np.any(np.all(out == (255, 0, 0), axis=2))  # the text's own colour
    clear = pixels_of(process_image(_grey_png(), f"image/watermark,text_{text},t_0"))
    assert np.all(clear == 128)


def test_image_watermark_reads_through_the_resolver() -> None:
    mark = encode(np.full((20, 20, 3), RED, dtype=np.uint8))
    key = encode_base64url("logos/red.png")
    asked: list[str] = []

    def resolve(name: str) -> bytes:
        asked.append(name)
        return mark

    out = pixels_of(
        process_image(_grey_png(), f"image/watermark,image_{key},g_nw,x_0,y_0", resolve_object=resolve)
    )
    assert asked == ["logos/red.png"]
    assert near(out[10, 10], RED) and near(out[30, 30], (128, 128, 128))
    half = pixels_of(
        process_image(
            _grey_png(), f"image/watermark,image_{key},g_nw,x_0,y_0,P_50,t_50", resolve_object=resolve
        )
    )
    assert near(half[100, 140], (192, 64, 64), 3) and near(half[160, 160], (128, 128, 128))


def test_image_watermark_without_a_store_or_object_is_an_error() -> None:
    key = encode_base64url("missing.png")
    with pytest.raises(ActionError, match="no store"):
        process_image(_grey_png(), f"image/watermark,image_{key}")

    def resolve(name: str) -> bytes:
        from restyle.errors import NotFound

        raise NotFound(f"Object '{name}' does not exist.")

    with pytest.raises(ActionError, match="could not be read"):
        process_image(_grey_png(), f"image/watermark,image_{key}", resolve_object=resolve)


# --- info ---------------------------------------------------------------------------------------


def test_info_reports_the_file() -> None:
    data = _rotated_jpeg()
    result = process_image(data, "image/info")
    assert result.media_type == "application/json" and result.format == "json"
    assert json.loads(result.data) == {
        "width": 300,
        "height": 400,
        "format": "jpeg",
        "size": len(data),
        "orientation": 6,
    }


# --- bounds ---------------------------------------------------------------------------------------


def test_pixel_bound_is_checked_before_decoding(quad_png: bytes) -> None:
    truncated = quad_png[: len(quad_png) // 2]  # the header is whole, the pixels are not
    with pytest.raises(ActionTooLarge) as caught:
        process_image(truncated, "image/resize,p_1000,limit_0", max_output_pixels=1_000_000)
    assert caught.value.status == 413 and caught.value.code == "action.too_large"
    assert "4000x3000" in caught.value.message and "1000000" in caught.value.message
    with pytest.raises(ActionTooLarge):
        process_image(
            quad_png, "image/resize,w_100/rotate,45/resize,p_1000,limit_0", max_output_pixels=500_000
        )


def test_a_passed_deadline_stops_before_decoding(quad_png: bytes) -> None:
    with pytest.raises(ActionDeadline) as caught:
        process_image(quad_png, "image/flip,h", deadline=time.monotonic() - 1)
    assert caught.value.code == "action.deadline" and caught.value.status == 504


class _Slow(Action):
    """A test action that spends longer than the test's deadline."""

    name = "test-slow"
    seen: ClassVar[list[str]] = []

    def apply(self, canvas: Canvas) -> Canvas:
        time.sleep(0.2)
        return canvas


def test_the_deadline_is_checked_between_steps_and_register_adds_actions(quad_png: bytes) -> None:
    register(_Slow)
    try:
        with pytest.raises(ActionDeadline, match="before 'flip'"):
            process_image(quad_png, "image/test-slow/flip,h", deadline=time.monotonic() + 0.1)
        assert process_image(quad_png, "image/test-slow/flip,h").width == 400
    finally:
        _loaded.pop("test-slow", None)


def test_not_an_image_is_an_image_error() -> None:
    with pytest.raises(ImageDecodeError):
        process_image(b"not an image at all", "image/resize,w_10")


# --- decoding paths: OpenCV (plain JPEG, BGR order) and Pillow (profiles, alpha) agree --------------


@pytest.fixture(scope="module")
def quad_jpeg() -> bytes:
    return encode(quadrants(), "JPEG", quality=95)


@pytest.mark.parametrize(
    ("actions", "where", "colour"),
    [
        ("resize,m_pad,w_200,h_200,color_FF8000/format,png", (5, 100), (255, 128, 0)),
        ("resize,m_pad,w_200,h_200,color_FF8000", (5, 100), (255, 128, 0)),
        (
            "watermark,text_" + encode_base64url("MMMM") + ",size_80,color_00FFFF,g_nw,x_0,y_0",
            None,
            (0, 255, 255),
        ),
        ("circle,r_100", (60, 60), RED),
        ("rotate,90/format,webp", (10, 290), RED),
        ("format,png", (10, 390), GREEN),
    ],
)
def test_jpeg_and_png_sources_give_the_same_colours(
    quad_png: bytes,
    quad_jpeg: bytes,
    actions: str,
    where: tuple[int, int] | None,
    colour: tuple[int, int, int],
) -> None:
    for data in (quad_png, quad_jpeg):
        out = pixels_of(process_image(data, "image/" + actions))
        if where is None:  # a text: some of its pixels in the top-left corner
            box = out[:100, :250, :3].astype(int)
            assert np.sum(np.all(np.abs(box - colour) <= 24, axis=2)) > 100, data[:4]
        else:
            assert near(out[where], colour, 24), (data[:4], out[where])


def test_a_jpeg_with_a_colour_profile_goes_through_pillow_and_matches(photo_jpeg: bytes) -> None:
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = Image.open(io.BytesIO(photo_jpeg))
    tagged = encode(np.asarray(image), "JPEG", quality=90, icc_profile=srgb)
    plain = pixels_of(process_image(photo_jpeg, "image/resize,w_200/format,png")).astype(int)
    profiled = pixels_of(process_image(tagged, "image/resize,w_200/format,png")).astype(int)
    assert plain.shape == profiled.shape == (150, 200, 3)
    assert np.abs(plain - profiled).mean() < 3


def test_a_truncated_jpeg_is_refused_not_filled_with_grey(photo_jpeg: bytes) -> None:
    from restyle.errors import ImageTruncated

    with pytest.raises(ImageTruncated):
        process_image(photo_jpeg[: len(photo_jpeg) * 2 // 3], "image/resize,w_100")


# --- any valid chain on a small image: a decodable image or a RestyleError, nothing else -------------

STEP = st.one_of(
    st.builds(
        lambda m, w, h, limit: f"resize,m_{m},w_{w},h_{h},limit_{limit}",
        st.sampled_from(["lfit", "mfit", "fill", "pad", "fixed"]),
        st.integers(1, 90),
        st.integers(1, 90),
        st.integers(0, 1),
    ),
    st.builds(lambda p: f"resize,p_{p},limit_0", st.integers(1, 300)),
    st.builds(
        lambda w, h, x, y, g: f"crop,w_{w},h_{h},x_{x},y_{y},g_{g}",
        st.integers(1, 60),
        st.integers(1, 60),
        st.integers(0, 50),
        st.integers(0, 50),
        st.sampled_from(["nw", "north", "ne", "west", "center", "east", "sw", "south", "se"]),
    ),
    st.builds(lambda x, i: f"indexcrop,x_{x},i_{i}", st.integers(1, 50), st.integers(0, 5)),
    st.builds(lambda r: f"circle,r_{r}", st.integers(1, 60)),
    st.builds(lambda r: f"rounded-corners,r_{r}", st.integers(1, 60)),
    st.builds(lambda a: f"rotate,{a}", st.integers(0, 360)),
    st.sampled_from(
        ["flip,h", "flip,v", "flip,both", "sharpen,120", "bright,-40", "contrast,60", "blur,r_2,s_3"]
    ),
    st.builds(
        lambda t, g: f"watermark,text_{encode_base64url(t)},g_{g},size_12",
        st.text(alphabet="abcXYZ 12", min_size=1, max_size=6).filter(str.strip),
        st.sampled_from(["nw", "center", "se"]),
    ),
)
ENDING = st.sampled_from(["", "/format,png", "/format,jpg/quality,Q_70", "/format,webp", "/format,gif"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=1, max_size=4), ENDING, st.sampled_from(["png", "jpeg"]))
def test_any_valid_chain_gives_an_image_or_a_restyle_error(
    steps: list[str], ending: str, source: str
) -> None:
    data = SMALL_SOURCES[source]
    try:
        result = process_image(data, "image/" + "/".join(steps) + ending, max_output_pixels=200_000)
    except RestyleError as exc:
        assert exc.code.startswith(("action.", "image.")), exc.code
        return
    assert pixels_of(result).shape[:2] == (result.height, result.width)


SMALL_SOURCES = {
    "png": encode(quadrants(40, 32)),
    "jpeg": encode(quadrants(40, 32), "JPEG", quality=90),
}


def test_a_huge_text_watermark_is_refused_before_it_is_drawn() -> None:
    text = encode_base64url("W" * 64)
    with pytest.raises(ActionTooLarge, match="lower 'size'"):
        process_image(_grey_png(), f"image/watermark,text_{text},size_1000")


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp"])
def test_the_metadata_hook_writes_xmp(quad_png: bytes, fmt: str) -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'
    labelled = process_image(quad_png, f"image/format,{fmt}", metadata=Metadata(xmp=xmp))
    plain = process_image(quad_png, f"image/format,{fmt}")
    assert xmp in labelled.data and xmp not in plain.data
    info = Image.open(io.BytesIO(labelled.data)).info
    assert info.get("xmp") or info.get("XML:com.adobe.xmp")
