"""Every phone and browser format the decoder reads, colour handling, orientation, and corrupt files.

Every input is generated here: HEIC (pillow-heif), AVIF (Pillow), APNG, ICO, CMYK JPEG, 16-bit
PNG, palette and grey+alpha PNG, and photos tagged with a hand-built Display P3 matrix profile.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from restyle.errors import RestyleError
from restyle.imaging.codecs import decode, decode_image

pillow_heif.register_heif_opener()  # to write HEIC here; the decoder registers it by itself


def _save(image: Image.Image, fmt: str, **kw: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def _quadrants(width: int = 64, height: int = 48) -> np.ndarray:
    """Four flat colours, so orientation and colour errors show in block means."""
    image = np.zeros((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    image[:h, :w], image[:h, w:] = (220, 40, 40), (40, 200, 40)
    image[h:, :w], image[h:, w:] = (40, 40, 220), (230, 230, 60)
    return image


def _close(a: np.ndarray, b: np.ndarray, tolerance: float = 12.0) -> bool:
    return a.shape == b.shape and float(np.abs(a.astype(int) - b.astype(int)).mean()) < tolerance


# --- formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "family"), [("HEIF", "heic"), ("AVIF", "avif"), ("WEBP", "webp"), ("TIFF", "tiff")])
def test_phone_and_browser_formats_decode(fmt: str, family: str) -> None:
    quadrants = _quadrants()
    decoded = decode(_save(Image.fromarray(quadrants), fmt, quality=90))
    assert decoded.family == family and _close(decoded.pixels, quadrants)


def test_apng_gives_its_first_frame() -> None:
    red, blue = Image.new("RGB", (40, 40), (255, 0, 0)), Image.new("RGB", (40, 40), (0, 0, 255))
    data = _save(red, "PNG", save_all=True, append_images=[blue], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    decoded = decode(data)
    assert decoded.family == "apng" and tuple(decoded.pixels[20, 20]) == (255, 0, 0)


def test_ico_gives_its_largest_image() -> None:
    sizes = [(16, 16), (32, 32), (48, 48)]
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", size, colour) for size, colour in zip(sizes, colours, strict=True)]
    data = _save(frames[2], "ICO", sizes=sizes, append_images=frames[:2])  # each size its own colour
    assert Image.open(io.BytesIO(data)).info["sizes"] == set(sizes)
    decoded = decode(data)
    assert decoded.family == "ico" and decoded.pixels.shape == (48, 48, 3)
    assert tuple(decoded.pixels[24, 24]) == (0, 0, 255)


def test_gif_gives_its_first_frame() -> None:
    first, second = Image.new("RGB", (40, 40), (255, 0, 0)), Image.new("RGB", (40, 40), (0, 0, 255))
    decoded = decode_image(_save(first, "GIF", save_all=True, append_images=[second]))
    assert tuple(decoded[5, 5]) == (255, 0, 0)


# --- colour -----------------------------------------------------------------------------------


def test_adobe_cmyk_jpeg_becomes_rgb() -> None:
    data = _save(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).info.get("adobe") is not None  # Pillow writes Adobe's inverted CMYK
    assert np.abs(decode_image(data)[20, 20].astype(int) - (255, 0, 0)).max() <= 3


def test_plain_cmyk_jpeg_without_adobe_marker_is_not_inverted() -> None:
    # Pillow writes inverted CMYK plus an APP14 "Adobe" segment; with the segment cut out and the
    # values written inverted, the file holds plain cyan 0, magenta 255, yellow 255: red.
    data = _save(Image.new("CMYK", (40, 40), (255, 0, 0, 255)), "JPEG", quality=95)
    at = data.index(b"\xff\xee")
    length = struct.unpack(">H", data[at + 2 : at + 4])[0]
    plain = data[:at] + data[at + 2 + length :]
    assert "adobe" not in Image.open(io.BytesIO(plain)).info
    assert np.abs(decode_image(plain)[20, 20].astype(int) - (255, 0, 0)).max() <= 3


def test_sixteen_bit_rgb_png_keeps_its_high_byte() -> None:
    wide = np.random.default_rng(3).integers(0, 65536, (40, 40, 3), dtype=np.uint16)
    ok, buffer = cv2.imencode(".png", wide[:, :, ::-1])  # OpenCV writes 48-bit PNGs from BGR
    assert ok
    assert np.abs(decode_image(buffer.tobytes()).astype(int) - (wide >> 8)).max() <= 1


def test_palette_with_transparency_is_flattened_on_white() -> None:
    palette = Image.new("P", (40, 40), 0)
    palette.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    palette.paste(1, (20, 0, 40, 40))
    decoded = decode_image(_save(palette, "PNG", transparency=0))
    assert tuple(decoded[10, 10]) == (255, 255, 255) and tuple(decoded[10, 30]) == (200, 30, 30)


def test_grey_with_alpha_is_composited_on_white() -> None:
    grey = Image.new("LA", (40, 40), (0, 128))  # black, half transparent
    decoded = decode_image(_save(grey, "PNG"))
    assert np.abs(decoded.astype(int) - 127).max() <= 1


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _matrix_profile(colorants: np.ndarray, gamma: float) -> bytes:
    """A minimal ICC v2 RGB display profile: D50 colorant columns and one gamma curve."""
    wtpt = (0.9642, 1.0, 0.8249)
    desc_text = b"Test P3 gamma 2.2\0"
    tags: list[tuple[bytes, bytes]] = [
        (b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(desc_text)) + desc_text + b"\0" * 12 + b"\0" * 67),
        (b"cprt", b"text\0\0\0\0" + b"public domain\0"),
        (b"wtpt", b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in wtpt)),
    ]
    for index, name in enumerate((b"rXYZ", b"gXYZ", b"bXYZ")):
        tags.append((name, b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in colorants[:, index])))
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    tags += [(b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for name, data in tags:
        table += name + struct.pack(">II", offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + b"".join(_s15(v) for v in wtpt)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def _rgb_to_xyz(primaries: list[tuple[float, float]], white: tuple[float, float]) -> np.ndarray:
    xyz = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in primaries]).T
    white_xyz = np.array([white[0] / white[1], 1.0, (1 - white[0] - white[1]) / white[1]])
    return np.asarray(xyz * np.linalg.solve(xyz, white_xyz))


D65 = (0.3127, 0.3290)
P3 = _rgb_to_xyz([(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)], D65)
SRGB = _rgb_to_xyz([(0.640, 0.330), (0.300, 0.600), (0.150, 0.060)], D65)
BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def _to_d50(matrix: np.ndarray) -> np.ndarray:
    src = BRADFORD @ np.array([0.95047, 1.0, 1.08883])
    dst = BRADFORD @ np.array([0.9642, 1.0, 0.8249])
    return np.asarray(np.linalg.inv(BRADFORD) @ np.diag(dst / src) @ BRADFORD @ matrix)


def _srgb_encode(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


P3_PROFILE = _matrix_profile(_to_d50(P3), 2.2)


def test_display_p3_photo_is_converted_to_srgb() -> None:
    colour = np.array([200, 120, 80])
    linear_p3 = (colour / 255.0) ** 2.2
    expected = np.round(_srgb_encode(np.linalg.solve(SRGB, P3 @ linear_p3)) * 255).astype(int)
    photo = Image.new("RGB", (64, 64), tuple(int(c) for c in colour))
    for fmt in ("PNG", "JPEG", "WEBP", "HEIF", "AVIF"):
        decoded = decode_image(_save(photo, fmt, icc_profile=P3_PROFILE, quality=100))[32, 32].astype(int)
        assert np.abs(decoded - expected).max() <= 3, (fmt, decoded, expected)
        assert np.abs(decoded - colour).max() >= 10  # the profile visibly matters for this colour


def test_srgb_profile_changes_nothing_and_a_broken_profile_is_ignored() -> None:
    photo = Image.fromarray(_quadrants())
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    plain = decode_image(_save(photo, "PNG"))
    assert np.array_equal(decode_image(_save(photo, "PNG", icc_profile=srgb)), plain)
    assert np.array_equal(decode_image(_save(photo, "PNG", icc_profile=b"not a profile at all")), plain)
    assert np.array_equal(decode_image(_save(photo, "PNG", icc_profile=P3_PROFILE[:200])), plain)


def test_rgb_profile_on_a_grey_image_is_ignored() -> None:
    grey = Image.new("L", (40, 40), 90)
    assert np.array_equal(decode_image(_save(grey, "PNG", icc_profile=P3_PROFILE)), np.full((40, 40, 3), 90))


# --- orientation ------------------------------------------------------------------------------

# what to store so that a viewer applying EXIF orientation N shows the upright image
STORED: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, 1),
    7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
    8: lambda a: np.rot90(a, -1),
}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "HEIF", "AVIF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_gives_the_upright_image(fmt: str, orientation: int) -> None:
    upright = _quadrants()
    stored = Image.fromarray(np.ascontiguousarray(STORED[orientation](upright)))
    exif = Image.Exif()
    exif[0x0112] = orientation
    decoded = decode_image(_save(stored, fmt, exif=exif.tobytes(), quality=95))
    assert _close(decoded, upright), (fmt, orientation)


# --- corrupt files ----------------------------------------------------------------------------


def _valid_files() -> dict[str, bytes]:
    image = Image.fromarray(_quadrants(48, 40))
    files = {fmt: _save(image, fmt, quality=80) for fmt in ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")}
    files["HEIF"] = _save(image, "HEIF", quality=60)
    files["AVIF"] = _save(image, "AVIF", quality=60)
    files["APNG"] = _save(image, "PNG", save_all=True, append_images=[image.rotate(90)])
    files["ICO"] = _save(image, "ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return files


VALID = _valid_files()
FUZZ = settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def _decodes_or_refuses(data: bytes) -> None:
    try:
        pixels = decode_image(data)
    except RestyleError as err:
        assert err.code.startswith("image.") and err.param == "image"
    else:
        assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3


@pytest.mark.parametrize("fmt", sorted(VALID))
@FUZZ
@given(cut=st.floats(min_value=0.0, max_value=0.999))
def test_truncated_files_never_raise_anything_else(fmt: str, cut: float) -> None:
    data = VALID[fmt]
    _decodes_or_refuses(data[: int(len(data) * cut)])


@pytest.mark.parametrize("fmt", sorted(VALID))
@FUZZ
@given(flips=st.lists(st.tuples(st.floats(0.0, 0.999), st.integers(1, 255)), min_size=1, max_size=8))
def test_byte_flipped_files_never_raise_anything_else(fmt: str, flips: list[tuple[float, int]]) -> None:
    data = bytearray(VALID[fmt])
    for where, mask in flips:
        data[int(len(data) * where)] ^= mask
    _decodes_or_refuses(bytes(data))


def test_heic_opener_is_registered_by_the_decoder_itself(tmp_path: Path) -> None:
    # this test module registered pillow-heif for writing; a fresh interpreter shows the decoder needs nobody
    heic = tmp_path / "photo.heic"
    heic.write_bytes(_save(Image.fromarray(_quadrants()), "HEIF", quality=90))
    script = (
        "import sys\nfrom PIL import Image\nfrom restyle.imaging.codecs import decode\n"
        "assert 'HEIF' not in Image.OPEN\n"
        "print(decode(open(sys.argv[1], 'rb').read()).family)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(heic)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "heic"


def test_profiled_photos_decode_the_same_in_parallel_threads() -> None:
    rng = np.random.default_rng(5)
    photo = Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8))
    data = _save(photo, "PNG", icc_profile=P3_PROFILE)
    expected = decode_image(data)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: decode_image(data), range(16)))
    assert all(np.array_equal(result, expected) for result in results)
    assert not np.array_equal(expected, np.asarray(photo))  # the profile was applied
