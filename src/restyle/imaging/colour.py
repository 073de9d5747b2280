"""Any decoded Pillow image -> 8-bit sRGB pixels: wide grey, palette, CMYK, ICC profiles, alpha on white.

Phones tag photos with Display P3 or Adobe RGB profiles; ignoring the profile shows them dull or
shifted, so an embedded profile is converted to sRGB with LittleCMS. A profile that does not
parse or does not fit the pixels is ignored: the photo is still worth processing.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict

import numpy as np
from PIL import Image, ImageChops, ImageCms

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_PROFILE_MODES = {"RGB ": "RGB", "GRAY": "L", "CMYK": "CMYK"}  # ICC colour space -> Pillow mode
_CACHE_SIZE = 32
# transform per profile hash and input mode; None when the profile is sRGB already or unusable
_transforms: OrderedDict[tuple[bytes, str], ImageCms.ImageCmsTransform | None] = OrderedDict()
_transforms_lock = threading.Lock()


def to_srgb(img: Image.Image, *, is_jpeg: bool = False) -> np.ndarray:
    """An upright decoded image -> contiguous RGB uint8 array in sRGB, alpha composited on white.

    Steps: 1. wide grey (16/32-bit, float) to 8 bits; 2. split off alpha; 3. non-Adobe CMYK JPEGs
    back to plain ink values; 4. the embedded ICC profile to sRGB (or the plain conversion);
    5. alpha over white.
    """
    # 1. wide grey
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        img = _wide_grey_to_l(img)
    # 2. alpha
    alpha: Image.Image | None = None
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        alpha = rgba.getchannel("A")
        colour = rgba.convert("RGB") if img.mode in ("RGBA", "RGBa", "P", "PA") else img.convert("L")
    elif img.mode in ("RGB", "L", "CMYK"):
        colour = img
    else:  # P without transparency, 1, YCbCr, LAB, HSV, ...
        colour = img.convert("RGB")
    # 3. Pillow reads every CMYK JPEG with Adobe's inverted convention; without the Adobe marker it is plain
    if colour.mode == "CMYK" and is_jpeg and "adobe" not in img.info:
        colour = ImageChops.invert(colour)
    # 4. colour profile
    rgb = _apply_profile(colour, img.info.get("icc_profile"))
    # 5. alpha over white
    if alpha is not None and alpha.getextrema() != (255, 255):
        white = Image.new("RGB", rgb.size, (255, 255, 255))
        rgb = Image.composite(rgb, white, alpha)
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def _wide_grey_to_l(img: Image.Image) -> Image.Image:
    # 16-bit by its full range, 32-bit integers by 16 bits unless they use more, floats as 0..1 unless
    # they hold 0..255 values.
    arr = np.asarray(img, dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    top = float(finite.max()) if finite.size else 0.0
    if img.mode == "F":
        full = 1.0 if top <= 1.0 else 255.0
    else:
        full = 65535.0 if img.mode.startswith("I;16") or top <= 65535 else max(top, 1.0)
    scaled = np.nan_to_num(arr, nan=0.0, posinf=full, neginf=0.0) / full * 255.0
    grey = Image.fromarray(np.clip(scaled + 0.5, 0, 255).astype(np.uint8))
    if "icc_profile" in img.info:
        grey.info["icc_profile"] = img.info["icc_profile"]
    return grey


def _apply_profile(colour: Image.Image, icc: object) -> Image.Image:
    """``colour`` (RGB, L or CMYK) converted to sRGB by its profile, or plainly when there is none."""
    if isinstance(icc, bytes) and icc:
        transform = _transform_for(icc, colour.mode)
        if transform is not None:
            try:
                return ImageCms.applyTransform(colour, transform) or colour.convert("RGB")
            except (ImageCms.PyCMSError, OSError, ValueError):
                pass
    return colour.convert("RGB")


def _transform_for(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    key = (hashlib.sha256(icc).digest(), mode)
    with _transforms_lock:
        if key in _transforms:
            _transforms.move_to_end(key)
            return _transforms[key]
    transform = _build_transform(icc, mode)
    with _transforms_lock:
        _transforms[key] = transform
        if len(_transforms) > _CACHE_SIZE:
            _transforms.popitem(last=False)
    return transform


def _build_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from the profile to sRGB; None when the profile is unusable or already sRGB."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if _PROFILE_MODES.get(profile.profile.xcolor_space) != mode:
            return None  # a profile for other pixels (e.g. an RGB profile on a grey image)
        # no one-pixel cache: a cached transform is shared by worker threads (and costs nothing here)
        transform = ImageCms.buildTransform(profile, _SRGB, mode, "RGB", flags=ImageCms.Flags.NOCACHE)
        if mode == "RGB" and _is_identity(transform):
            return None  # an sRGB profile: skip the work on every pixel
        return transform
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def _is_identity(transform: ImageCms.ImageCmsTransform) -> bool:
    levels = np.linspace(0, 255, 16).round().astype(np.uint8)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(64, 64, 3)
    probe = Image.fromarray(grid)
    converted = ImageCms.applyTransform(probe, transform)
    if converted is None:
        return False
    return int(np.abs(np.asarray(converted, dtype=np.int16) - grid.astype(np.int16)).max()) <= 1
