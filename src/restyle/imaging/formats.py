"""Which Pillow readers may open an input, and the format family of what they opened.

Only the readers of the supported families are tried: Pillow knows many more formats (EPS runs
Ghostscript, PSD and others are rarely needed), and each extra parser is attack surface.
HEIC comes from pillow-heif, whose opener is registered the first time a HEIF box is seen.
"""

from __future__ import annotations

import functools
import io
import warnings

from PIL import Image, features

# Pillow reader ids in the order they are tried; AVIF before HEIF so pillow-heif never takes an AVIF.
PILLOW_READERS: tuple[str, ...] = ("JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF", "GIF", "AVIF", "HEIF", "ICO")
_FAMILIES = {
    "JPEG": "jpeg",
    "MPO": "jpeg",  # phones' multi-picture JPEGs; the first picture is the photo
    "PNG": "png",
    "WEBP": "webp",
    "BMP": "bmp",
    "TIFF": "tiff",
    "GIF": "gif",
    "AVIF": "avif",
    "HEIF": "heic",
    "ICO": "ico",
}


@functools.cache
def register_heif() -> bool:
    """Register pillow-heif's HEIC opener once (and its AVIF one where Pillow has no AVIF reader).

    False when pillow-heif is not installed.
    """
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    register_avif = getattr(pillow_heif, "register_avif_opener", None)  # pillow-heif < 1.0 only
    if register_avif is not None and not features.check("avif"):
        register_avif()
    return True


def can_read_avif() -> bool:
    """Whether AVIF files can be decoded here (Pillow 11.3+ built with libavif, or old pillow-heif)."""
    return bool(features.check("avif")) or (register_heif() and "AVIF" in Image.OPEN)


def is_iso_media(data: bytes) -> bool:
    """True for an ISO base media file (HEIC, AVIF): a ``ftyp`` box first."""
    return data[4:8] == b"ftyp"


def is_avif(data: bytes) -> bool:
    """True when the file's major brand says AVIF."""
    return is_iso_media(data) and data[8:12] in (b"avif", b"avis")


def open_image(data: bytes) -> Image.Image:
    """Open ``data`` with the supported readers only; decodes the header, not the pixels.

    Raises what Pillow raises: UnidentifiedImageError, DecompressionBombError (as an error also
    for the warning band) and whatever a reader throws on a corrupt header.
    """
    if is_iso_media(data):
        register_heif()
    Image.init()
    readers = [reader for reader in PILLOW_READERS if reader in Image.OPEN]  # HEIF once registered
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data), formats=readers)


def family_of(img: Image.Image) -> str:
    """The format family of an opened image: ``jpeg``, ``png``, ``apng``, ``heic``, ``ico``, ..."""
    family = _FAMILIES.get(img.format or "", (img.format or "unknown").lower())
    if family == "png" and getattr(img, "is_animated", False):
        return "apng"
    return family


def is_accepted_as(family: str, formats: frozenset[str]) -> bool:
    """Whether ``family`` is accepted by a front taking ``formats``.

    An APNG is a valid PNG whose first frame every PNG reader shows, so a PNG front takes it.
    """
    return family in formats or (family == "apng" and "png" in formats)
