"""Decode input images under a front's rules (bytes, format, pixels, sides, aspect) and encode results."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from restyle.config import ImageLimits
from restyle.domain import OutputFormat
from restyle.errors import (
    ImageDecodeError,
    ImageTooManyPixels,
    ImageTooSmall,
    ImageTruncated,
    RestyleError,
    UnsupportedFeature,
)
from restyle.imaging.colour import to_srgb
from restyle.imaging.formats import (
    can_read_avif,
    family_of,
    is_accepted_as,
    is_avif,
    open_image,
    register_heif,
)
from restyle.imaging.limits import InputRules, check_bytes, check_dimensions, check_format, native_rules

SUPPORTED_INPUT = "JPEG, PNG, WebP, BMP, TIFF, GIF, HEIC, AVIF, APNG or ICO"


@dataclass(frozen=True)
class DecodedImage:
    """Upright sRGB pixels and what the file was: its format family and whether it was elongated past the rules."""

    pixels: np.ndarray  # H x W x 3 uint8, sRGB
    family: str  # "jpeg", "png", "apng", "heic", "avif", "ico", ...
    needs_crop: bool = False  # past the front's max_aspect and the front crops (see output.crop_to_aspect)


def decode_image(
    data: bytes,
    *,
    limits: ImageLimits | None = None,
    param: str = "image",
    rules: InputRules | None = None,
) -> np.ndarray:
    """Bytes -> upright sRGB uint8 array, or an ImageError naming ``param`` and the limit broken.

    ``rules`` are the front's input rules (:func:`restyle.imaging.limits.input_rules`); without
    them the native rules built from ``limits`` (``Settings.images``) apply.
    """
    return decode(data, limits=limits, param=param, rules=rules).pixels


def check_image(data: bytes, *, rules: InputRules, param: str = "image") -> None:
    """Every check of :func:`decode` (an ImageError naming ``param`` and the limit broken), for a
    submit that keeps the bytes for a worker: a JPEG is decoded at 1/8 scale, which still reads
    all its entropy-coded data (so truncation and corruption are found) in a third of the time."""
    decode(data, param=param, rules=rules, reduced=True)


def decode(
    data: bytes,
    *,
    limits: ImageLimits | None = None,
    param: str = "image",
    rules: InputRules | None = None,
    reduced: bool = False,
) -> DecodedImage:
    """Like :func:`decode_image`, also saying which format the file was.

    Steps: 1. bytes; 2. open the header with the supported readers only; 3. format allowed by the
    front; 4. declared dimensions against every size rule, before any pixel is decoded (bombs);
    5. decode the first frame / largest icon (truncation); 6. EXIF orientation; 7. to sRGB
    (ICC profile, CMYK, 16-bit, palette, alpha over white); 8. the decoded size once more.
    """
    rules = rules or native_rules(limits or ImageLimits())
    # 1. bytes
    check_bytes(rules, len(data), param)
    # 2. header
    img = _open(data, rules, param)
    # 3. format
    family = family_of(img)
    if not is_accepted_as(family, rules.formats):
        check_format(rules, family, param)
    # 4. declared dimensions
    check_dimensions(rules, *img.size, param)
    if reduced and family == "jpeg":  # (the pixels returned are then 1/8 scale)
        img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
    # 5. pixels
    _load(img, rules, param)
    # 6. orientation; a broken EXIF block is not worth refusing the photo for
    oriented: Image.Image = img
    with contextlib.suppress(Exception):
        oriented = ImageOps.exif_transpose(img) or img
    # 7. sRGB
    try:
        rgb = to_srgb(oriented, is_jpeg=family == "jpeg")
    except (OSError, ValueError, SyntaxError) as exc:
        raise _truncated(param) from exc
    # 8. an icon or a reader may decode another size than its header declared (a JPEG may not)
    height, width = rgb.shape[:2]
    if not (reduced and family == "jpeg"):
        check_dimensions(rules, width, height, param)
    return DecodedImage(rgb, family, rules.needs_crop(width, height))


def _open(data: bytes, rules: InputRules, param: str) -> Image.Image:
    try:
        return open_image(data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooManyPixels(
            f"Parameter '{param}' declares more pixels than allowed; the limit is {rules.max_pixels} pixels.",
            param=param,
        ) from exc
    except UnidentifiedImageError as exc:
        declared = _png_size(data)
        if declared is not None and min(declared) == 0:  # Pillow refuses to open a 0-pixel PNG
            raise ImageTooSmall(
                f"Parameter '{param}' is {declared[0]}x{declared[1]} pixels; each side must be at least "
                f"{rules.min_side}.",
                param=param,
            ) from exc
        if is_avif(data) and not can_read_avif():
            raise UnsupportedFeature(
                f"Parameter '{param}' is an AVIF image and this server's Pillow cannot read AVIF; send a JPEG, "
                "PNG or WebP file (operators: install Pillow 11.3 or later with AVIF support).",
                param=param,
            ) from exc
        raise ImageDecodeError(
            f"Parameter '{param}' is not a readable image; send a {rules.formats_text()} file.", param=param
        ) from exc
    except Exception as exc:  # readers raise many types on corrupt headers; all mean "not readable"
        raise ImageDecodeError(
            f"Parameter '{param}' could not be read as an image ({type(exc).__name__}); send a "
            f"{rules.formats_text()} file.",
            param=param,
        ) from exc


def _load(img: Image.Image, rules: InputRules, param: str) -> None:
    try:
        img.load()
    except Image.DecompressionBombError as exc:  # an icon entry larger than its directory says
        raise ImageTooManyPixels(
            f"Parameter '{param}' declares more pixels than allowed; the limit is {rules.max_pixels} pixels.",
            param=param,
        ) from exc
    except RestyleError:
        raise
    except Exception as exc:  # decoders raise many types on truncated or corrupt data
        raise _truncated(param) from exc


def _truncated(param: str) -> ImageTruncated:
    return ImageTruncated(
        f"Parameter '{param}' is truncated or corrupt and could not be decoded; send the whole file.",
        param=param,
    )


def _png_size(data: bytes) -> tuple[int, int] | None:
    """The width and height a PNG's header declares, or None for other data."""
    if len(data) < 24 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def encode_image(image: np.ndarray, fmt: OutputFormat = OutputFormat.PNG, quality: int = 92) -> bytes:
    """RGB uint8 -> encoded bytes; deterministic for the same pixels and options."""
    if fmt in (OutputFormat.AVIF, OutputFormat.HEIC):
        return _encode_with_pillow(image, fmt, quality)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if fmt is OutputFormat.PNG:
        params = [cv2.IMWRITE_PNG_COMPRESSION, 1]  # 25 % faster than 3 for 7 % more bytes
        ext = ".png"
    elif fmt is OutputFormat.JPEG:
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
        ext = ".jpg"
    else:
        params = [cv2.IMWRITE_WEBP_QUALITY, int(quality)]
        ext = ".webp"
    ok, buf = cv2.imencode(ext, bgr, params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {fmt.value} image")
    return bytes(buf.tobytes())


def _encode_with_pillow(image: np.ndarray, fmt: OutputFormat, quality: int) -> bytes:
    buffer = io.BytesIO()
    picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), "RGB")
    if fmt is OutputFormat.HEIC:
        if not register_heif():
            raise UnsupportedFeature("HEIC output needs pillow-heif; choose png, jpeg, webp or avif.")
        # x265 preset ultrafast: 4x faster than libheif's default for 0.5 % more bytes (2304x1536 portrait)
        picture.save(buffer, format="HEIF", quality=int(quality), enc_params={"preset": "ultrafast"})
    else:
        # libavif speed 9: 7x faster than the default 6 for 13 % more bytes (2304x1536 portrait)
        picture.save(buffer, format="AVIF", quality=int(quality), speed=9)
    return buffer.getvalue()


MEDIA_TYPES = {
    OutputFormat.PNG: "image/png",
    OutputFormat.JPEG: "image/jpeg",
    OutputFormat.WEBP: "image/webp",
    OutputFormat.AVIF: "image/avif",
    OutputFormat.HEIC: "image/heic",
}
FILE_EXTENSIONS = {
    OutputFormat.PNG: "png",
    OutputFormat.JPEG: "jpg",
    OutputFormat.WEBP: "webp",
    OutputFormat.AVIF: "avif",
    OutputFormat.HEIC: "heic",
}
