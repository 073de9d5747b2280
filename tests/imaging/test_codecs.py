from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from restyle.config import ImageLimits
from restyle.domain import OutputFormat
from restyle.errors import ImageDecodeError, ImageEmpty, ImageTooLarge, ImageTooSmall
from restyle.imaging.codecs import FILE_EXTENSIONS, MEDIA_TYPES, decode, decode_image, encode_image


def _png_with_size(width: int, height: int) -> bytes:
    """A PNG whose header declares any size, with one tiny compressed row of data."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(
        b"IEND", b""
    )


def _jpeg(image: np.ndarray, **kw: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", **kw)
    return buffer.getvalue()


def test_decodes_png_to_rgb(astronaut_png: bytes) -> None:
    image = decode_image(astronaut_png)
    assert image.shape == (320, 320, 3) and image.dtype == np.uint8


def test_empty_file_is_refused() -> None:
    with pytest.raises(ImageEmpty) as err:
        decode_image(b"")
    assert err.value.code == "image.empty" and err.value.param == "image"


def test_not_an_image_is_refused() -> None:
    with pytest.raises(ImageDecodeError) as err:
        decode_image(b"hello, this is text and not a photo", param="style_image")
    assert err.value.code == "image.invalid"
    assert "'style_image'" in err.value.message and "JPEG" in err.value.message


def test_truncated_file_is_refused(astronaut_small: np.ndarray) -> None:
    data = _jpeg(astronaut_small)
    with pytest.raises(ImageDecodeError) as err:
        decode_image(data[: len(data) // 2])
    assert "truncated" in err.value.message


@pytest.mark.parametrize("size", [(0, 0), (0, 40), (40, 0)])
def test_zero_size_is_refused(size: tuple[int, int]) -> None:
    with pytest.raises(ImageTooSmall) as err:
        decode_image(_png_with_size(*size))
    assert err.value.code == "image.too_small" and err.value.status == 400
    assert f"{size[0]}x{size[1]} pixels" in err.value.message and "at least 32" in err.value.message


def test_truncated_png_is_refused(astronaut_small: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(astronaut_small).save(buffer, format="PNG")
    with pytest.raises(ImageDecodeError) as err:
        decode_image(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    assert err.value.code == "image.truncated" and err.value.status == 400


@pytest.mark.parametrize(
    ("mode", "values", "expected"),
    [
        ("I;16", np.full((40, 40), 16384, np.uint16), 64),  # a dark 16-bit photo stays dark
        ("I;16", np.full((40, 40), 65535, np.uint16), 255),
        ("F", np.full((40, 40), 0.5, np.float32), 128),  # floats in 0..1
        ("F", np.full((40, 40), 200.0, np.float32), 200),  # floats in 0..255
    ],
)
def test_wide_grey_images_keep_their_brightness(mode: str, values: np.ndarray, expected: int) -> None:
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="TIFF" if mode == "F" else "PNG")
    rgb = decode_image(buffer.getvalue())
    assert rgb.shape == (40, 40, 3) and abs(int(rgb.mean()) - expected) <= 1


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge) as err:
        decode_image(_png_with_size(60000, 60000))
    assert err.value.code == "image.too_many_pixels" and err.value.status == 413
    assert "36000000 pixels" in err.value.message


def test_byte_limit_names_the_limit(astronaut_png: bytes) -> None:
    with pytest.raises(ImageTooLarge) as err:
        decode_image(astronaut_png, limits=ImageLimits(max_bytes=1000))
    assert "1000 bytes" in err.value.message


def test_tiny_image_is_refused() -> None:
    with pytest.raises(ImageTooSmall) as err:
        decode_image(_jpeg(np.zeros((8, 8, 3), np.uint8)))
    assert "at least 32" in err.value.message


def test_exif_orientation_is_applied(astronaut_small: np.ndarray) -> None:
    tall = astronaut_small[:, :200]
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    data = _jpeg(tall, exif=exif.tobytes(), quality=95)
    decoded = decode_image(data)
    assert decoded.shape[:2] == (200, 320)


def test_alpha_is_flattened_over_white() -> None:
    rgba = np.zeros((40, 40, 4), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    assert decode_image(buffer.getvalue()).min() == 255


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_encode_round_trip(fmt: OutputFormat, astronaut_small: np.ndarray) -> None:
    data = encode_image(astronaut_small, fmt)
    assert data == encode_image(astronaut_small, fmt)
    decoded = decode_image(data)
    assert decoded.shape == astronaut_small.shape
    assert np.abs(decoded.astype(int) - astronaut_small).mean() < 4


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_output_format_has_a_media_type_an_extension_and_decodes_as_itself(
    fmt: OutputFormat, astronaut_small: np.ndarray
) -> None:
    assert MEDIA_TYPES[fmt].startswith("image/") and FILE_EXTENSIONS[fmt].isalpha()
    family = {OutputFormat.JPEG: "jpeg", OutputFormat.HEIC: "heic"}.get(fmt, fmt.value)
    assert decode(encode_image(astronaut_small, fmt, 80)).family == family


def test_png_output_stays_fast_zlib_level_one(astronaut_small: np.ndarray) -> None:
    data = encode_image(astronaut_small, OutputFormat.PNG)
    compressed = data[data.index(b"IDAT") + 4 :]
    assert compressed[:2] == b"\x78\x01"  # zlib header of compression level 1 (fastest)
