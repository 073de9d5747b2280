"""The JPEG fast paths of processing actions (lossless DCT transforms, YCbCr planes, region decode)
give the pixels the plain decode-steps-encode path gives, honour EXIF orientation, and leave every
file they cannot handle exactly (colour profiles, CMYK, 4:4:4, metadata to write) to that path."""

from __future__ import annotations

import io
import os

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from restyle.errors import ImageTruncated, RestyleError
from restyle.imaging import turbojpeg as tj
from restyle.imaging.actions import Metadata, ProcessedImage, process_image

if not tj.available():
    if os.environ.get("CI") == "true":
        raise RuntimeError("libturbojpeg is missing on CI: the Makefile installs libturbojpeg0")
    pytest.skip("libturbojpeg0 is not installed (apt-get install libturbojpeg0)", allow_module_level=True)

SLOW = Metadata(xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')  # metadata to write: the pixel path only


def photo(width: int, height: int, seed: int = 1) -> np.ndarray:
    """A smooth photo-like RGB image with edges and colour (chroma errors show on it)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / width * 255, y / height * 255, (x + y) / (width + height) * 255], axis=-1)
    base[height // 3 : height // 2, width // 4 : width // 2] = (200, 30, 60)
    noise = cv2.GaussianBlur(rng.normal(0, 40, (height, width, 3)).astype(np.float32), (0, 0), 2)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def jpeg(pixels: np.ndarray, quality: int = 90, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality, **options)
    return buffer.getvalue()


def rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def mean_difference(a: bytes, b: bytes) -> float:
    x, y = rgb(a), rgb(b)
    assert x.shape == y.shape
    return float(np.abs(x - y).mean())


def slow(data: bytes, actions: str) -> ProcessedImage:
    result = process_image(data, actions, metadata=SLOW)
    assert result.route in ("pixels", "region")  # a region decode gives a full decode's pixels (tested below)
    return result


def with_orientation(data: bytes, orientation: int) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        exif[0x0112] = orientation
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def upright(data: bytes) -> np.ndarray:
    from PIL import ImageOps

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"), dtype=np.int16)


# --- lossless ---------------------------------------------------------------------------------


def test_format_jpg_of_a_jpeg_is_lossless_and_strips_metadata() -> None:
    source = jpeg(photo(333, 211), exif=Image.Exif().tobytes(), comment=b"camera note")
    result = process_image(source, "image/format,jpg")
    assert result.route == "lossless"
    assert np.array_equal(rgb(result.data), rgb(source))  # no generation loss at all
    with Image.open(io.BytesIO(result.data)) as image:
        assert "exif" not in image.info and "comment" not in image.info and not image.info.get("progressive")
    assert len(result.data) <= len(source)
    # the pixel path re-encodes: close, not equal
    assert 0 < mean_difference(slow(source, "image/format,jpg").data, source) < 2


@pytest.mark.parametrize(
    ("actions", "turn"),
    [
        ("image/rotate,180", lambda a: np.rot90(a, 2)),
        ("image/flip,h", lambda a: a[:, ::-1]),
        ("image/flip,v", lambda a: a[::-1]),
        ("image/rotate,90/rotate,90/flip,h", lambda a: a[::-1]),
        ("image/rotate,90", lambda a: np.rot90(a, -1)),
    ],
)
def test_turns_of_an_mcu_aligned_jpeg_are_exact(actions: str, turn: object) -> None:
    source = jpeg(photo(320, 240))  # 4:2:0, both sides multiples of 16
    result = process_image(source, actions)
    assert result.route in ("lossless", "planes")
    expected = turn(rgb(source))  # type: ignore[operator]
    if result.route == "lossless":  # the same DCT blocks; only chroma upsampling's rounding is not mirrored
        assert int(np.abs(rgb(result.data) - expected).max()) <= 2
    assert float(np.abs(rgb(result.data) - expected).mean()) < 1.5
    assert mean_difference(result.data, slow(source, actions).data) < 1.5


def test_a_source_finer_than_the_asked_quality_is_reencoded_and_a_coarser_one_kept() -> None:
    pixels = photo(320, 240)
    fine, coarse = jpeg(pixels, quality=97), jpeg(pixels, quality=75)
    assert process_image(fine, "image/format,jpg").route == "planes"  # re-encoded at 90: smaller
    assert len(process_image(fine, "image/format,jpg").data) < len(fine)
    kept = process_image(coarse, "image/format,jpg")
    assert kept.route == "lossless" and len(kept.data) <= len(coarse)
    assert process_image(coarse, "image/quality,Q_60").route == "planes"
    assert process_image(coarse, "image/quality,q_100").route == "lossless"


def test_progressive_in_baseline_out_and_interlace_asks_for_progressive() -> None:
    source = jpeg(photo(160, 128), progressive=True)
    plain = process_image(source, "image/format,jpg")
    assert plain.route == "lossless" and np.array_equal(rgb(plain.data), rgb(source))
    with Image.open(io.BytesIO(plain.data)) as image:
        assert not image.info.get("progressive")
    interlaced = process_image(source, "image/interlace,1")
    with Image.open(io.BytesIO(interlaced.data)) as image:
        assert image.info.get("progressive")


def test_a_grey_jpeg_takes_the_fast_paths() -> None:
    grey = cv2.cvtColor(photo(203, 151), cv2.COLOR_RGB2GRAY)
    source = jpeg(grey)
    assert process_image(source, "image/format,jpg").route == "lossless"
    turned = process_image(source, "image/rotate,270/quality,Q_80")
    assert turned.route == "planes" and (turned.width, turned.height) == (151, 203)
    assert mean_difference(turned.data, slow(source, "image/rotate,270/quality,Q_80").data) < 1.5


# --- planes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(1155, 866), (250, 122), (97, 64)])
def test_rotate_90_of_an_unaligned_jpeg_on_planes_matches_the_pixel_path(width: int, height: int) -> None:
    source = jpeg(photo(width, height))
    fast = process_image(source, "image/rotate,90")
    assert fast.route == "planes" and (fast.width, fast.height) == (height, width)
    reference = slow(source, "image/rotate,90")
    assert mean_difference(fast.data, reference.data) < 1.5
    # the chroma is kept as stored, not resampled twice: at least as close to the source as the pixel path
    expected = np.rot90(rgb(source), -1)
    assert np.abs(rgb(fast.data) - expected).mean() <= np.abs(rgb(reference.data) - expected).mean() + 0.05


def test_a_half_chroma_sample_on_a_leading_edge_goes_to_the_pixel_path() -> None:
    source = jpeg(photo(121, 77))  # odd sides: rotating or flipping would misplace the last chroma column
    for actions in (
        "image/rotate,90",
        "image/rotate,270",
        "image/flip,h",
        "image/crop,x_3,y_1,w_50,h_50/format,jpg",
    ):
        result = process_image(source, actions)
        assert result.route in ("pixels", "region"), actions


def test_crop_on_chroma_aligned_boxes_after_a_turn_uses_the_planes() -> None:
    source = jpeg(photo(400, 300))
    actions = "image/rotate,90/crop,x_10,y_20,w_101,h_77"
    fast = process_image(source, actions)
    assert fast.route == "planes" and (fast.width, fast.height) == (101, 77)
    assert mean_difference(fast.data, slow(source, actions).data) < 1.5


# --- EXIF orientation -------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(("width", "height"), [(320, 240), (322, 238)])
def test_exif_orientation_is_applied_on_every_route(orientation: int, width: int, height: int) -> None:
    source = with_orientation(jpeg(photo(width, height)), orientation)
    expected = upright(source)
    result = process_image(source, "image/format,jpg")
    assert rgb(result.data).shape == expected.shape, result.route
    assert float(np.abs(rgb(result.data) - expected).mean()) < 1.5, result.route
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.getexif().get(0x0112) is None  # no orientation left to apply twice
    kept = process_image(source, "image/auto-orient,0/format,jpg")
    assert float(np.abs(rgb(kept.data) - rgb(source)).mean()) < 1.5
    aligned = (width, height) == (320, 240)
    if aligned or orientation in (1, 3, 4):
        assert result.route in ("lossless", "planes")


# --- region decode ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "actions"),
    [
        (1155, 866, "image/crop,w_300,h_300,g_center"),
        (1155, 866, "image/crop,x_1,y_3,w_77,h_41"),  # touches nothing, odd origin
        (1001, 777, "image/crop,w_300,h_300,g_se"),  # runs to the right and bottom edges
        (1001, 777, "image/crop,w_255,h_199"),  # from the top-left corner
        (2400, 1800, "image/crop,w_400,h_400,g_center"),  # a small share of a large photo
        (999, 701, "image/crop,x_17,y_9,w_321,h_123/format,png"),  # any output format
    ],
)
def test_a_leading_crop_decodes_only_its_region_with_the_same_pixels(
    width: int, height: int, actions: str
) -> None:
    source = jpeg(photo(width, height, seed=width))
    result = process_image(source, actions)
    assert result.route == "region"
    full = cv2.imdecode(np.frombuffer(source, np.uint8), cv2.IMREAD_COLOR)
    from restyle.imaging.actions.crop import Crop
    from restyle.imaging.actions.parser import parse_actions

    crop = parse_actions(actions).actions[0]
    assert isinstance(crop, Crop)
    left, top, right, bottom = crop.box(width, height)
    if result.format == "jpeg":
        ok, expected = cv2.imencode(".jpg", full[top:bottom, left:right], [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok and result.data == expected.tobytes()  # the very bytes a full decode gives
    else:
        decoded = np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB"))
        assert np.array_equal(decoded, full[top:bottom, left:right, ::-1])


def test_a_large_crop_decodes_everything() -> None:
    source = jpeg(photo(1155, 866))
    assert process_image(source, "image/crop,w_512,h_512,g_center").route == "pixels"  # 30 % of the area


# --- what the fast paths leave alone ------------------------------------------------------------


def _display_p3() -> bytes:
    profile = ImageCms.createProfile("sRGB")
    return ImageCms.ImageCmsProfile(profile).tobytes().replace(b"sRGB", b"sRGX", 1)


def test_profiles_cmyk_444_and_metadata_take_the_pixel_path() -> None:
    pixels = photo(160, 128)
    adobe = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    with_profile = jpeg(pixels, icc_profile=adobe)
    cmyk = io.BytesIO()
    Image.fromarray(pixels).convert("CMYK").save(cmyk, format="JPEG", quality=90)
    full_chroma = jpeg(pixels, subsampling=0)
    for source in (with_profile, cmyk.getvalue(), full_chroma):
        for actions in ("image/format,jpg", "image/rotate,180", "image/crop,w_20,h_20"):
            assert process_image(source, actions).route in ("pixels", "region")
    for source in (with_profile, cmyk.getvalue()):
        assert process_image(source, "image/crop,w_20,h_20").route == "pixels"  # colour needs the profile
    assert process_image(jpeg(pixels), "image/format,jpg", metadata=SLOW).route == "pixels"


def test_a_truncated_jpeg_is_still_refused() -> None:
    source = jpeg(photo(320, 240))
    with pytest.raises(ImageTruncated):
        process_image(source[: len(source) // 2], "image/format,jpg")
    with pytest.raises(ImageTruncated):
        process_image(source[: len(source) // 2], "image/crop,w_20,h_20")


# --- property: any chain of turns, flips and crops ----------------------------------------------

TURN = st.sampled_from(["rotate,90", "rotate,180", "rotate,270", "flip,h", "flip,v", "flip,both"])
CROP = st.builds(
    lambda x, y, w, h: f"crop,x_{x},y_{y},w_{w},h_{h}",
    st.integers(0, 40),
    st.integers(0, 40),
    st.integers(1, 200),
    st.integers(1, 200),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(48, 180),
    st.integers(48, 180),
    st.lists(st.one_of(TURN, CROP), min_size=1, max_size=4),
    st.sampled_from([1, 6, 8]),
)
def test_any_chain_of_turns_and_crops_matches_the_pixel_path(
    width: int, height: int, steps: list[str], orientation: int
) -> None:
    source = with_orientation(jpeg(photo(width, height, seed=3)), orientation)
    actions = "image/" + "/".join(steps) + "/format,jpg"
    try:
        reference = slow(source, actions)
    except RestyleError as exc:  # a crop starting outside the image: both paths refuse it alike
        with pytest.raises(type(exc)):
            process_image(source, actions)
        return
    fast = process_image(source, actions)
    assert (fast.width, fast.height) == (reference.width, reference.height)
    expected = _apply(upright(source), steps)  # the decoded source with the steps done in numpy
    assert rgb(fast.data).shape == expected.shape
    fast_error = float(np.abs(rgb(fast.data) - expected).mean())
    reference_error = float(np.abs(rgb(reference.data) - expected).mean())
    assert fast_error <= reference_error + 0.5, fast.route  # as close to the truth as the pixel path


def _apply(pixels: np.ndarray, steps: list[str]) -> np.ndarray:
    from restyle.imaging.actions.crop import Crop
    from restyle.imaging.actions.parser import parse_actions

    for step in steps:
        name, _, value = step.partition(",")
        if name == "rotate":
            pixels = np.rot90(pixels, -int(value) // 90)
        elif name == "flip":
            pixels = pixels[:, ::-1] if value in ("h", "both") else pixels
            pixels = pixels[::-1] if value in ("v", "both") else pixels
        else:
            crop = parse_actions(step).actions[0]
            assert isinstance(crop, Crop)
            left, top, right, bottom = crop.box(pixels.shape[1], pixels.shape[0])
            pixels = pixels[top:bottom, left:right]
    return pixels


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.floats(0.0, 0.999), st.integers(1, 255)), min_size=1, max_size=8),
    st.sampled_from(
        ["image/format,jpg", "image/rotate,90", "image/rotate,180", "image/crop,x_40,y_30,w_50,h_40"]
    ),
    st.sampled_from([(320, 240), (322, 238)]),
)
def test_byte_flipped_jpegs_on_the_fast_paths_give_an_image_or_a_restyle_error(
    flips: list[tuple[float, int]], actions: str, size: tuple[int, int]
) -> None:
    data = bytearray(jpeg(photo(*size, seed=7)))
    for where, value in flips:
        data[int(where * len(data))] ^= value
    try:
        result = process_image(bytes(data), actions)
    except RestyleError:
        return
    assert result.data[:2] == b"\xff\xd8"


def test_without_libturbojpeg_every_action_takes_the_pixel_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tj, "_library", lambda: None)  # as on a machine without libturbojpeg0
    assert not tj.available()
    source = with_orientation(jpeg(photo(320, 240)), 6)
    for actions in ("image/format,jpg", "image/rotate,90", "image/crop,w_40,h_30", "image/resize,w_100"):
        result = process_image(source, actions)
        assert result.route == "pixels", actions
    turned = process_image(source, "image/format,jpg")
    assert float(np.abs(rgb(turned.data) - upright(source)).mean()) < 1.5
