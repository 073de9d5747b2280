"""Decode input images with limits (bytes, pixels, bombs, truncation, EXIF) and encode results."""

from __future__ import annotations

import contextlib
import io
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from restyle.config import ImageLimits
from restyle.domain import OutputFormat
from restyle.errors import ImageDecodeError, ImageEmpty, ImageTooLarge, ImageTooSmall

SUPPORTED_INPUT = "JPEG, PNG, WebP, BMP, TIFF or GIF"


def decode_image(data: bytes, *, limits: ImageLimits | None = None, param: str = "image") -> np.ndarray:
    """Bytes -> upright RGB uint8 array, or an ImageError naming ``param`` and the limit broken.

    Steps: 1. size checks on the bytes; 2. identify the format; 3. check the declared
    dimensions before any pixel is decoded (decompression bombs); 4. decode fully (truncation);
    5. apply EXIF orientation; 6. flatten to RGB (alpha over white); 7. minimum size.
    """
    limits = limits or ImageLimits()
    # 1. bytes
    if not data:
        raise ImageEmpty(f"Parameter '{param}' is empty; send a {SUPPORTED_INPUT} file.", param=param)
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(
            f"Parameter '{param}' is {len(data)} bytes; the limit is {limits.max_bytes} bytes.", param=param
        )
    # 2. format
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        declared = _png_size(data)
        if declared is not None and min(declared) == 0:  # Pillow refuses to open a 0-pixel PNG
            raise ImageTooSmall(
                f"Parameter '{param}' is {declared[0]}x{declared[1]} pixels; each side must be at least "
                f"{limits.min_side}.",
                param=param,
            ) from exc
        if isinstance(exc, UnidentifiedImageError):
            raise ImageDecodeError(
                f"Parameter '{param}' is not a readable image; send a {SUPPORTED_INPUT} file.", param=param
            ) from exc
        raise _too_many_pixels(param, limits) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageDecodeError(
            f"Parameter '{param}' could not be read as an image ({exc}); send a {SUPPORTED_INPUT} file.",
            param=param,
        ) from exc
    # 3. declared dimensions
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageTooSmall(
            f"Parameter '{param}' is {width}x{height} pixels; each side must be at least {limits.min_side}.",
            param=param,
        )
    if width * height > limits.max_pixels or max(width, height) > limits.max_side:
        raise ImageTooLarge(
            f"Parameter '{param}' is {width}x{height} pixels; the limit is {limits.max_pixels} pixels "
            f"and {limits.max_side} pixels per side.",
            param=param,
        )
    # 4. decode
    try:
        img.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageDecodeError(
            f"Parameter '{param}' is truncated or corrupt and could not be decoded; send the whole file.",
            param=param,
        ) from exc
    # 5. orientation
    oriented: Image.Image = img
    # a broken EXIF block is not worth refusing the photo for
    with contextlib.suppress(OSError, ValueError, SyntaxError):
        oriented = ImageOps.exif_transpose(img) or img
    # 6. RGB
    rgb = _flatten_to_rgb(oriented)
    # 7. minimum size
    h, w = rgb.shape[:2]
    if min(h, w) < limits.min_side:
        raise ImageTooSmall(
            f"Parameter '{param}' is {w}x{h} pixels; each side must be at least {limits.min_side}.",
            param=param,
        )
    return rgb


def _too_many_pixels(param: str, limits: ImageLimits) -> ImageTooLarge:
    return ImageTooLarge(
        f"Parameter '{param}' declares more pixels than allowed; the limit is {limits.max_pixels} pixels.",
        param=param,
    )


def _png_size(data: bytes) -> tuple[int, int] | None:
    """The width and height a PNG's header declares, or None for other data."""
    if len(data) < 24 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _flatten_to_rgb(img: Image.Image) -> np.ndarray:
    # Wide grey modes keep their brightness: 16-bit by its full range, 32-bit integers by 16 bits
    # unless they use more, floats as 0..1 unless they hold 0..255 values.
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        finite = arr[np.isfinite(arr)]
        top = float(finite.max()) if finite.size else 0.0
        if img.mode == "F":
            full = 1.0 if top <= 1.0 else 255.0
        else:
            full = 65535.0 if img.mode.startswith("I;16") or top <= 65535 else max(top, 1.0)
        scaled = np.nan_to_num(arr, nan=0.0, posinf=full, neginf=0.0) / full * 255.0
        img = Image.fromarray(np.clip(scaled + 0.5, 0, 255).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def encode_image(image: np.ndarray, fmt: OutputFormat = OutputFormat.PNG, quality: int = 92) -> bytes:
    """RGB uint8 -> encoded bytes; deterministic for the same pixels and options."""
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


MEDIA_TYPES = {OutputFormat.PNG: "image/png", OutputFormat.JPEG: "image/jpeg", OutputFormat.WEBP: "image/webp"}
