"""Input rules per front: bytes, pixels, sides, aspect ratio and formats, and their checks.

Each vendor front takes the inputs its vendor documents (``/work/shared/seeds``); the native
API takes what ``Settings.images`` allows. A rule a vendor does not state falls back to the
native value, and the server's pixel cap (its decompression-bomb guard) always applies.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace

from restyle.config import ImageLimits
from restyle.errors import (
    ImageAspectRatio,
    ImageEmpty,
    ImageFormatNotAllowed,
    ImageSideTooLarge,
    ImageTooLarge,
    ImageTooManyPixels,
    ImageTooSmall,
    InvalidParameter,
)

MB = 1024 * 1024

# Format families the decoder reads, in the order error messages list them.
ALL_FORMATS: tuple[str, ...] = ("jpeg", "png", "webp", "bmp", "tiff", "gif", "heic", "avif", "apng", "ico")
FORMAT_TITLES = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WebP",
    "bmp": "BMP",
    "tiff": "TIFF",
    "gif": "GIF",
    "heic": "HEIC",
    "avif": "AVIF",
    "apng": "APNG",
    "ico": "ICO",
}


class AspectPolicy(enum.StrEnum):
    """What a front does with an image more elongated than its ``max_aspect``."""

    REFUSE = "refuse"  # error image.aspect_ratio
    CROP = "crop"  # the caller crops to max_aspect around the main face (output.crop_to_aspect)


@dataclass(frozen=True)
class InputRules:
    """Limits one front puts on an input image; sides are orientation-free (long and short side).

    ``max_dimensions`` is a vendor's "at most W x H" pair, compared as long side <= max(W, H)
    and short side <= min(W, H), so a portrait photo fits a landscape pair. ``max_aspect`` is
    long side / short side; past it ``aspect_policy`` refuses or asks the caller to crop.
    """

    name: str
    max_bytes: int
    max_pixels: int
    min_side: int
    max_side: int
    max_dimensions: tuple[int, int] | None = None
    max_aspect: float | None = None
    aspect_policy: AspectPolicy = AspectPolicy.REFUSE
    formats: frozenset[str] = frozenset(ALL_FORMATS)

    def formats_text(self) -> str:
        """The accepted formats as a phrase for messages ("JPEG, PNG or WebP")."""
        titles = [FORMAT_TITLES[name] for name in ALL_FORMATS if name in self.formats]
        return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " or " + titles[-1]

    def needs_crop(self, width: int, height: int) -> bool:
        """True when the image is past ``max_aspect`` and this front crops instead of refusing."""
        return self.aspect_policy is AspectPolicy.CROP and _past_aspect(self.max_aspect, width, height)


def native_rules(images: ImageLimits) -> InputRules:
    """The native API's rules, straight from ``Settings.images``."""
    return InputRules(
        name="native",
        max_bytes=images.max_bytes,
        max_pixels=images.max_pixels,
        min_side=images.min_side,
        max_side=images.max_side,
    )


def input_rules(front: str, images: ImageLimits) -> InputRules:
    """The rules of ``front`` (a name in :data:`FRONTS`), completed from ``images`` where the vendor is silent."""
    try:
        stated = FRONTS[front]
    except KeyError:
        known = ", ".join(sorted(FRONTS))
        raise InvalidParameter(f"Input rules '{front}' are not known; use one of {known}.") from None
    native = native_rules(images)
    rules = replace(stated(native), name=front)
    # the pixel cap guards this server's memory, whatever a vendor allows
    return replace(rules, max_pixels=min(rules.max_pixels, native.max_pixels))


def _unstated(native: InputRules) -> InputRules:
    return native


def _imagex(native: InputRules) -> InputRules:
    # [001] veImageX GetCVImageGenerateResult: jpeg, png, webp, bmp, heic, apng, ico, avif; <= 35 MB.
    return replace(
        native, max_bytes=35 * MB, formats=frozenset({"jpeg", "png", "webp", "bmp", "heic", "apng", "ico", "avif"})
    )


def _dashscope(native: InputRules) -> InputRules:
    # [004] wanx-style-repaint-v1: JPEG, PNG, JPG, BMP, WEBP; <= 10M; 256*256 .. 5760*3240; past
    # 1.5:1 cropped to 1.5:1 (the output rule crops around the main face).
    return replace(
        native,
        max_bytes=10 * MB,
        max_pixels=5760 * 3240,
        min_side=256,
        max_side=5760,
        max_dimensions=(5760, 3240),
        max_aspect=1.5,
        aspect_policy=AspectPolicy.CROP,
        formats=frozenset({"jpeg", "png", "webp", "bmp"}),
    )


# What each vendor's document states (seed file in brackets); anything not stated is native.
FRONTS: dict[str, Callable[[InputRules], InputRules]] = {
    "native": _unstated,
    # [000] Volcengine CVProcess: its image requirements cell ("图片要求") is empty.
    "volc": _unstated,
    "imagex": _imagex,
    # [002] Image-to-Image 3.0 Portrait Photography: only output sizes are stated.
    "portrait": _unstated,
    # [003] TOS x-tos-process=aigc/image_to_image: the image is an object in the bucket; nothing stated.
    "tos": _unstated,
    "dashscope": _dashscope,
}


def check_bytes(rules: InputRules, size: int, param: str) -> None:
    """Refuse an empty file or one over ``rules.max_bytes``."""
    if size == 0:
        raise ImageEmpty(f"Parameter '{param}' is empty; send a {rules.formats_text()} file.", param=param)
    if size > rules.max_bytes:
        raise ImageTooLarge(
            f"Parameter '{param}' is {size} bytes; the limit is {rules.max_bytes} bytes.", param=param
        )


def check_format(rules: InputRules, family: str, param: str) -> None:
    """Refuse a format family (``"gif"``, ``"heic"``, ...) the front does not take."""
    if family not in rules.formats:
        raise ImageFormatNotAllowed(
            f"Parameter '{param}' is a {FORMAT_TITLES.get(family, family)} image; this endpoint takes "
            f"{rules.formats_text()} images.",
            param=param,
        )


def check_dimensions(rules: InputRules, width: int, height: int, param: str) -> None:
    """Check a width and height (as declared by the header, or decoded) against every size rule.

    Order: pixels, longest side, the vendor's W x H pair, shortest side, aspect ratio.
    """
    long_side, short_side = max(width, height), min(width, height)
    size = f"{width}x{height} pixels"
    if width * height > rules.max_pixels:
        raise ImageTooManyPixels(
            f"Parameter '{param}' is {size}; the limit is {rules.max_pixels} pixels.", param=param
        )
    if long_side > rules.max_side:
        raise ImageSideTooLarge(
            f"Parameter '{param}' is {size}; the limit is {rules.max_side} pixels per side.", param=param
        )
    if rules.max_dimensions is not None:
        max_long, max_short = max(rules.max_dimensions), min(rules.max_dimensions)
        if long_side > max_long or short_side > max_short:
            raise ImageSideTooLarge(
                f"Parameter '{param}' is {size}; the limit is {max_long}x{max_short} pixels "
                "(either orientation).",
                param=param,
            )
    if short_side < rules.min_side:
        raise ImageTooSmall(
            f"Parameter '{param}' is {size}; each side must be at least {rules.min_side}.", param=param
        )
    if rules.aspect_policy is AspectPolicy.REFUSE and _past_aspect(rules.max_aspect, width, height):
        raise ImageAspectRatio(
            f"Parameter '{param}' is {size}, an aspect ratio of {long_side / short_side:.2f}:1; the limit "
            f"is {rules.max_aspect:g}:1.",
            param=param,
        )


def _past_aspect(max_aspect: float | None, width: int, height: int) -> bool:
    if max_aspect is None or min(width, height) <= 0:
        return False
    return max(width, height) / min(width, height) > max_aspect + 1e-9
