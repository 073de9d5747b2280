"""Encoding the result of a chain: one format, no metadata but what the caller passes in.

JPEG goes through OpenCV (about a third faster than Pillow here); PNG, WebP, GIF, AVIF and HEIC
through Pillow, which takes RGB/RGBA as it is (OpenCV would need a BGR copy first).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, PngImagePlugin

from restyle.errors import UnsupportedFeature
from restyle.imaging.actions.canvas import ALPHA_FORMATS
from restyle.imaging.actions.png_interlace import encode_png_adam7
from restyle.imaging.formats import register_heif

MEDIA_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "heic": "image/heic",
    "bmp": "image/bmp",
    "gif": "image/gif",
}
EXTENSIONS = {
    "jpeg": "jpg",
    "png": "png",
    "webp": "webp",
    "avif": "avif",
    "heic": "heic",
    "bmp": "bmp",
    "gif": "gif",
}
LOSSY = frozenset({"jpeg", "webp", "avif", "heic"})
INTERLACED = frozenset({"jpeg", "png", "gif"})
DEFAULT_QUALITY = 90


@dataclass(frozen=True)
class Metadata:
    """What an encoder may embed; everything else from the source is stripped. (Labels fill this later.)"""

    exif: bytes | None = None
    xmp: bytes | None = None


def flatten(pixels: np.ndarray) -> np.ndarray:
    """RGBA composited over white -> RGB; RGB unchanged."""
    if pixels.shape[2] == 3:
        return pixels
    alpha = pixels[..., 3:4].astype(np.uint16)
    rgb = (pixels[..., :3].astype(np.uint16) * alpha + 255 * (255 - alpha) + 127) // 255
    return rgb.astype(np.uint8)


def encode_pixels(
    pixels: np.ndarray,
    fmt: str,
    *,
    quality: int = DEFAULT_QUALITY,
    interlace: bool = False,
    metadata: Metadata | None = None,
    bgr: bool = False,
) -> bytes:
    """``pixels`` (uint8, 3 channels or 4 with alpha; OpenCV's BGR order when ``bgr``) as a ``fmt``
    file (a key of MEDIA_TYPES)."""
    if pixels.shape[2] == 4 and fmt not in ALPHA_FORMATS:
        pixels = flatten(pixels)
    has_meta = metadata is not None and (metadata.exif or metadata.xmp)
    if fmt == "jpeg" and not has_meta:
        params = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_PROGRESSIVE, int(interlace)]
        ok, buffer = cv2.imencode(".jpg", pixels if bgr else cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), params)
        if not ok:
            raise ValueError("OpenCV could not encode the JPEG")
        return buffer.tobytes()
    if bgr:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA if pixels.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    if fmt == "png" and interlace and not has_meta:
        return encode_png_adam7(pixels)
    return _pillow(pixels, fmt, quality, interlace, metadata)


def _pillow(pixels: np.ndarray, fmt: str, quality: int, interlace: bool, metadata: Metadata | None) -> bytes:
    picture = Image.fromarray(np.ascontiguousarray(pixels), "RGBA" if pixels.shape[2] == 4 else "RGB")
    options: dict[str, object] = {}
    if metadata is not None and metadata.exif:
        options["exif"] = metadata.exif
    if metadata is not None and metadata.xmp:
        options["xmp"] = metadata.xmp
    if fmt in LOSSY:
        options["quality"] = quality
    if fmt == "jpeg":
        options["progressive"] = interlace
    elif fmt == "png":
        options["compress_level"] = 1  # several times faster than the default for a few % more bytes
        if metadata is not None and metadata.xmp:  # Pillow writes PNG XMP only as an iTXt chunk given to it
            info = PngImagePlugin.PngInfo()
            info.add_itxt("XML:com.adobe.xmp", metadata.xmp.decode("utf-8"), zip=False)
            options["pnginfo"] = info
    elif fmt == "gif":
        options["interlace"] = interlace
    elif fmt == "webp":
        options["method"] = 2  # libwebp's speed/size knob: 4 (default) is about twice as slow
    elif fmt == "heic" and not register_heif():
        raise UnsupportedFeature("HEIC output needs pillow-heif; choose jpg, png, webp or avif.")
    if fmt == "png" and interlace:
        raise UnsupportedFeature("An interlaced PNG cannot carry metadata yet; drop interlace,1.")
    buffer = io.BytesIO()
    picture.save(buffer, format={"heic": "HEIF"}.get(fmt, fmt.upper()), **options)
    return buffer.getvalue()
