"""Each input limit of each front's profile, with its exact error code, status and message."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import replace

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from restyle.config import ImageLimits
from restyle.errors import InvalidParameter, RestyleError
from restyle.imaging.codecs import decode, decode_image
from restyle.imaging.limits import FRONTS, AspectPolicy, InputRules, input_rules, native_rules

pillow_heif.register_heif_opener()  # to write HEIC here
IMAGES = ImageLimits()


def _png_with_size(width: int, height: int) -> bytes:
    """A PNG whose header declares any size (the decoder refuses it before reading pixels)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 16))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")


def _image(width: int, height: int, fmt: str = "PNG", **kw: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 90, 60)).save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def _refusal(data: bytes, rules: InputRules, param: str = "image") -> RestyleError:
    with pytest.raises(RestyleError) as err:
        decode_image(data, rules=rules, param=param)
    assert err.value.param == param and f"'{param}'" in err.value.message
    return err.value


def test_profiles_hold_what_the_vendor_documents_say() -> None:
    dashscope = input_rules("dashscope", IMAGES)
    assert (dashscope.max_bytes, dashscope.min_side, dashscope.max_dimensions) == (10 * 1024 * 1024, 256, (5760, 3240))
    assert (dashscope.max_aspect, dashscope.aspect_policy) == (1.5, AspectPolicy.CROP)
    assert dashscope.formats == {"jpeg", "png", "webp", "bmp"}
    imagex = input_rules("imagex", IMAGES)
    assert imagex.max_bytes == 35 * 1024 * 1024
    assert imagex.formats == {"jpeg", "png", "webp", "bmp", "heic", "apng", "ico", "avif"}
    for silent in ("native", "volc", "portrait", "tos"):  # the vendors state no input limits: native ones
        assert input_rules(silent, IMAGES) == replace(native_rules(IMAGES), name=silent)


def test_native_rules_follow_the_settings_and_cap_every_vendor() -> None:
    images = ImageLimits(max_bytes=5000, max_pixels=1_000_000, min_side=50, max_side=3000)
    native = input_rules("native", images)
    assert (native.max_bytes, native.max_pixels, native.min_side, native.max_side) == (5000, 1_000_000, 50, 3000)
    assert input_rules("dashscope", images).max_pixels == 1_000_000  # the server's bomb guard wins


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="dashscope"):
        input_rules("midjourney", IMAGES)


@pytest.mark.parametrize("front", sorted(FRONTS))
def test_byte_limit(front: str) -> None:
    rules = input_rules(front, IMAGES)
    err = _refusal(b"\x89PNG\r\n\x1a\n" + b"\0" * (rules.max_bytes - 7), rules)
    assert (err.code, err.status) == ("image.too_large", 413)
    assert f"{rules.max_bytes + 1} bytes; the limit is {rules.max_bytes} bytes" in err.message
    assert _refusal(b"", rules).code == "image.empty"


@pytest.mark.parametrize("front", sorted(FRONTS))
def test_pixel_limit_is_checked_on_the_header(front: str) -> None:
    rules = input_rules(front, IMAGES)
    side = int(rules.max_pixels**0.5) + 1  # square, so no side or pair limit is reached first
    err = _refusal(_png_with_size(side, side), rules)
    assert (err.code, err.status) == ("image.too_many_pixels", 413)
    assert f"the limit is {rules.max_pixels} pixels" in err.message


@pytest.mark.parametrize("front", sorted(FRONTS))
def test_side_limit(front: str) -> None:
    rules = input_rules(front, IMAGES)
    err = _refusal(_png_with_size(rules.max_side + 1, 400), rules)
    assert (err.code, err.status) == ("image.side_too_large", 413)
    assert f"{rules.max_side + 1}x400 pixels; the limit is {rules.max_side} pixels per side" in err.message


@pytest.mark.parametrize("size", [(3300, 3300), (3241, 5000), (5000, 3241)])
def test_dashscope_width_height_pair_in_either_orientation(size: tuple[int, int]) -> None:
    rules = input_rules("dashscope", IMAGES)
    err = _refusal(_png_with_size(*size), rules)
    assert (err.code, err.status) == ("image.side_too_large", 413)
    assert "the limit is 5760x3240 pixels (either orientation)" in err.message


def test_dashscope_takes_its_largest_size_in_both_orientations() -> None:
    rules = input_rules("dashscope", IMAGES)
    for size in ((5760, 3240), (3240, 5760)):
        data = _image(*size, "JPEG", quality=50)
        assert decode_image(data, rules=rules).shape[:2] == (size[1], size[0])


@pytest.mark.parametrize("front", sorted(FRONTS))
def test_min_side(front: str) -> None:
    rules = input_rules(front, IMAGES)
    small = rules.min_side - 1
    err = _refusal(_image(small, 400), rules, param="style_image")
    assert (err.code, err.status) == ("image.too_small", 400)
    assert f"{small}x400 pixels; each side must be at least {rules.min_side}" in err.message
    assert decode_image(_image(rules.min_side, 400), rules=rules).shape == (400, rules.min_side, 3)


@pytest.mark.parametrize(
    ("front", "fmt", "family"),
    [
        ("dashscope", "GIF", "GIF"),
        ("dashscope", "TIFF", "TIFF"),
        ("dashscope", "HEIF", "HEIC"),
        ("dashscope", "AVIF", "AVIF"),
        ("dashscope", "ICO", "ICO"),
        ("imagex", "GIF", "GIF"),
        ("imagex", "TIFF", "TIFF"),
    ],
)
def test_format_the_front_does_not_take(front: str, fmt: str, family: str) -> None:
    rules = input_rules(front, IMAGES)
    err = _refusal(_image(256, 256, fmt), rules)
    assert (err.code, err.status) == ("image.format", 415)
    assert f"is a {family} image; this endpoint takes {rules.formats_text()} images" in err.message


@pytest.mark.parametrize(
    ("front", "fmt", "family"),
    [
        ("dashscope", "JPEG", "jpeg"),
        ("dashscope", "PNG", "png"),
        ("dashscope", "WEBP", "webp"),
        ("dashscope", "BMP", "bmp"),
        ("imagex", "HEIF", "heic"),
        ("imagex", "AVIF", "avif"),
        ("imagex", "ICO", "ico"),
        ("native", "TIFF", "tiff"),
        ("native", "GIF", "gif"),
    ],
)
def test_formats_the_front_takes(front: str, fmt: str, family: str) -> None:
    decoded = decode(_image(256, 256, fmt), rules=input_rules(front, IMAGES))
    assert decoded.family == family and decoded.pixels.shape == (256, 256, 3)


def test_apng_counts_as_png_and_as_apng() -> None:
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (300, 300), (255, 0, 0)), Image.new("RGB", (300, 300), (0, 0, 255))
    first.save(buffer, format="PNG", save_all=True, append_images=[second])
    for front in ("dashscope", "imagex"):  # PNG-only and APNG-listing fronts
        assert decode(buffer.getvalue(), rules=input_rules(front, IMAGES)).family == "apng"


def test_other_pillow_formats_are_not_even_parsed() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, format="PPM")
    err = _refusal(buffer.getvalue(), native_rules(IMAGES))
    assert err.code == "image.invalid" and "not a readable image" in err.message


@pytest.mark.parametrize(("size", "crop"), [((600, 400), False), ((601, 400), True), ((400, 900), True)])
def test_dashscope_marks_elongated_images_for_the_face_crop(size: tuple[int, int], crop: bool) -> None:
    decoded = decode(_image(*size), rules=input_rules("dashscope", IMAGES))
    assert decoded.needs_crop is crop and decoded.pixels.shape[:2] == (size[1], size[0])


def test_a_refusing_profile_refuses_elongated_images() -> None:
    rules = InputRules("strict", max_bytes=10**6, max_pixels=10**6, min_side=32, max_side=4000, max_aspect=2.0)
    err = _refusal(_png_with_size(900, 400), rules)
    assert (err.code, err.status) == ("image.aspect_ratio", 400)
    assert "900x400 pixels, an aspect ratio of 2.25:1; the limit is 2:1" in err.message
    assert decode_image(_image(800, 400), rules=rules).shape == (400, 800, 3)


def test_the_old_limits_keyword_still_works() -> None:
    err = _refusal(_image(100, 100), native_rules(ImageLimits(min_side=200)))
    assert err.code == "image.too_small"
    with pytest.raises(RestyleError, match="at least 200"):
        decode_image(_image(100, 100), limits=ImageLimits(min_side=200))
    assert np.array_equal(decode_image(_image(100, 100)), decode_image(_image(100, 100), limits=IMAGES))
