"""Reading the source of a chain: its header (format, size, orientation, alpha) and its pixels.

Plain chains decode with :func:`restyle.imaging.codecs.decode` (upright sRGB RGB). Three cases
need Pillow directly, under the same rules: keeping the alpha channel (a transparent PNG that stays
PNG), ``auto-orient,0`` (pixels as stored) and JPEG draft mode (a chain that only shrinks a JPEG
decodes at 1/2, 1/4 or 1/8 scale straight from the DCT, several times faster).

A plain JPEG (8-bit YCbCr or grey, no colour profile) skips Pillow: libjpeg-turbo's TurboJPEG API
(or OpenCV without it) decodes it to BGR, and a chain that starts with a ``crop`` decodes only an
MCU-aligned box a block wider than the crop on every side (cut losslessly in the DCT domain), so
its pixels equal those of a full decode.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

from restyle.errors import ImageDecodeError, ImageTooManyPixels, ImageTruncated, RestyleError
from restyle.imaging import turbojpeg as tj
from restyle.imaging.actions import turns
from restyle.imaging.codecs import decode
from restyle.imaging.colour import to_srgb
from restyle.imaging.formats import family_of, is_accepted_as, open_image
from restyle.imaging.limits import InputRules, check_bytes, check_dimensions, check_format

PARAM = "image"
_TRANSPOSED = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height
_IJG_LUMA_SUM = 3688  # sum of the IJG standard luminance table (quality 50)
# a region decode pays off for boxes under 1/5 of the image (measured: at 12 MP a 2 % box decodes in
# 55 % of a full decode's time; at 1 MP a 30 % box takes 8 % longer than a full decode)
REGION_SHARE = 5


@dataclass(frozen=True)
class Source:
    """A source file opened to its header: nothing is decoded yet."""

    image: Image.Image
    family: str
    byte_size: int
    orientation: int

    @property
    def stored_size(self) -> tuple[int, int]:
        return self.image.size

    def upright_size(self, orient: bool = True) -> tuple[int, int]:
        width, height = self.image.size
        return (height, width) if orient and self.orientation in _TRANSPOSED else (width, height)

    @property
    def has_alpha(self) -> bool:
        img = self.image
        return img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info

    def jpeg_quality(self) -> int | None:
        """The IJG quality a JPEG was most likely saved with (from its luminance table), else None."""
        tables = getattr(self.image, "quantization", None)
        if self.family != "jpeg" or not tables or 0 not in tables:
            return None
        if max(tables[0]) <= 1:
            return 100
        scale = 100 * sum(tables[0]) / _IJG_LUMA_SUM  # IJG scales the base table by this percentage
        quality = (200 - scale) / 2 if scale <= 100 else 5000 / scale
        return int(max(1, min(100, round(quality))))


def open_source(data: bytes, rules: InputRules) -> Source:
    """Check bytes, format and declared dimensions; open the header (pixels stay undecoded)."""
    check_bytes(rules, len(data), PARAM)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = open_image(data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooManyPixels(
            f"Parameter '{PARAM}' declares more pixels than allowed; the limit is {rules.max_pixels} pixels.",
            param=PARAM,
        ) from exc
    except Exception as exc:  # readers raise many types on data that is not an image
        raise ImageDecodeError(
            f"Parameter '{PARAM}' is not a readable image; send a {rules.formats_text()} file.", param=PARAM
        ) from exc
    family = family_of(img)
    if not is_accepted_as(family, rules.formats):
        check_format(rules, family, PARAM)
    check_dimensions(rules, *img.size, PARAM)
    orientation = 1
    with contextlib.suppress(Exception):  # a broken EXIF block only loses the orientation
        orientation = int(img.getexif().get(0x0112, 1) or 1)
    return Source(img, family, len(data), orientation if 1 <= orientation <= 8 else 1)


@dataclass(frozen=True)
class Decoded:
    """Decoded pixels and their channel order (``bgr``: OpenCV's, else RGB); ``cropped`` when they are
    only the ``region`` asked for."""

    pixels: np.ndarray
    bgr: bool = False
    cropped: bool = False


def decode_source(
    data: bytes,
    source: Source,
    rules: InputRules,
    *,
    orient: bool = True,
    keep_alpha: bool = False,
    draft: tuple[int, int] | None = None,
    allow_bgr: bool = False,
    region: tuple[int, int, int, int] | None = None,
) -> Decoded:
    """Pixels of ``source``: RGB, or RGBA when ``keep_alpha`` and the file has alpha; upright unless
    ``orient`` is False; a JPEG decoded at the smallest DCT scale not below ``draft`` (upright size).
    With ``allow_bgr`` a plain sRGB JPEG is decoded by libjpeg-turbo or OpenCV and comes back in BGR
    order, and only ``region`` (left, top, right, bottom of the upright image) of it when that is
    cheaper (``cropped`` says so)."""
    keep_alpha = keep_alpha and source.has_alpha
    draft = draft if source.family == "jpeg" else None
    if allow_bgr and plain_jpeg(data, source):
        if region is not None and draft is None and (source.orientation == 1 or not orient):
            pixels = _decode_region(data, source, region)
            if pixels is not None:
                return Decoded(pixels, bgr=True, cropped=True)
        return Decoded(_decode_jpeg_bgr(data, source, orient, draft), bgr=True)
    if orient and not keep_alpha and draft is None:
        return Decoded(decode(data, param=PARAM, rules=rules).pixels)
    return Decoded(_decode_with_pillow(data, source, orient, keep_alpha, draft))


def plain_jpeg(data: bytes, source: Source) -> bool:
    """A whole 8-bit YCbCr or grey JPEG without a colour profile: OpenCV decodes it as well as Pillow, faster.

    A profile (Display P3, CMYK...) needs :func:`to_srgb`; a file without its end marker goes to
    Pillow, which refuses it as truncated where libjpeg would fill the rest with grey.
    """
    img = source.image
    return (
        source.family == "jpeg"
        and img.mode in ("RGB", "L")
        and "icc_profile" not in img.info
        and data.rfind(b"\xff\xd9", max(0, len(data) - 64)) >= 0
    )


_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2))


def _decode_region(data: bytes, source: Source, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The pixels of ``box`` (stored orientation), or None when a full decode is as cheap or libjpeg
    cannot cut the file cleanly. The margin of one MCU keeps chroma upsampling at the box's edges
    identical to a full decode."""
    left, top, right, bottom = box
    width, height = source.stored_size
    if not tj.available():
        return None
    try:
        head = tj.header(data)
        mcu_w, mcu_h = head.mcu
        x0, y0 = max(0, (left // mcu_w - 1) * mcu_w), max(0, (top // mcu_h - 1) * mcu_h)
        x1, y1 = min(width, right + mcu_w), min(height, bottom + mcu_h)
        if (x1 - x0) * (y1 - y0) * REGION_SHARE > width * height:
            return None  # cutting still entropy-decodes the whole file: worth it for small boxes only
        piece = tj.transform(data, tj.OP_NONE, crop=(x0, y0, x1 - x0, y1 - y0))
        pixels = tj.decode_bgr(piece, tj.header(piece))
    except tj.TurboError:
        return None
    return pixels[top - y0 : bottom - y0, left - x0 : right - x0]


def _decode_jpeg_bgr(data: bytes, source: Source, orient: bool, draft: tuple[int, int] | None) -> np.ndarray:
    if draft is None and tj.available():
        try:
            stored = tj.decode_bgr(data, tj.header(data))
        except tj.TurboError:
            pass  # OpenCV below says whether it is truncated or only something libjpeg-turbo refuses
        else:
            return turns.apply(stored, turns.EXIF[source.orientation]) if orient else stored
    flags = cv2.IMREAD_COLOR
    if draft is not None:
        width, height = source.stored_size
        want_w, want_h = (draft[1], draft[0]) if orient and source.orientation in _TRANSPOSED else draft
        for factor, reduced in _REDUCED:
            if -(-width // factor) >= want_w and -(-height // factor) >= want_h:
                flags = reduced
                break
    if not orient:
        flags |= cv2.IMREAD_IGNORE_ORIENTATION
    pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if pixels is None:
        raise ImageTruncated(
            f"Parameter '{PARAM}' is truncated or corrupt and could not be decoded; send the whole file.",
            param=PARAM,
        )
    return pixels


def _decode_with_pillow(
    data: bytes, source: Source, orient: bool, keep_alpha: bool, draft: tuple[int, int] | None
) -> np.ndarray:
    img = source.image
    if draft is not None:
        width, height = draft
        img.draft(None, (height, width) if orient and source.orientation in _TRANSPOSED else (width, height))
    try:
        img.load()
    except RestyleError:
        raise
    except Exception as exc:  # decoders raise many types on truncated or corrupt data
        raise ImageTruncated(
            f"Parameter '{PARAM}' is truncated or corrupt and could not be decoded; send the whole file.",
            param=PARAM,
        ) from exc
    if orient and source.orientation != 1:
        with contextlib.suppress(Exception):
            img = ImageOps.exif_transpose(img) or img
    if not keep_alpha:
        return to_srgb(img, is_jpeg=source.family == "jpeg")
    rgba = img.convert("RGBA")
    colour = rgba.convert("RGB")
    if "icc_profile" in img.info:
        colour.info["icc_profile"] = img.info["icc_profile"]
    out = np.empty((rgba.height, rgba.width, 4), dtype=np.uint8)
    out[..., :3] = to_srgb(colour)
    out[..., 3] = np.asarray(rgba.getchannel("A"))
    return out
