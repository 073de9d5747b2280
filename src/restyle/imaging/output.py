"""Output size rules: requested width/height by face-centred crop, a front's fixed sizes, else the input capped."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from restyle.config import ImageLimits
from restyle.domain import OutputFormat
from restyle.errors import InvalidParameter, ParameterOutOfRange


@dataclass(frozen=True)
class Geometry:
    """Crop box in input pixels and the final output size; ``scale`` maps cropped input to output."""

    crop: tuple[int, int, int, int]  # left, top, right, bottom
    width: int
    height: int

    @property
    def scale(self) -> float:
        return self.width / max(1, self.crop[2] - self.crop[0])

    @property
    def is_identity(self) -> bool:
        return self.crop == (0, 0, self.width, self.height)


@dataclass(frozen=True)
class OutputRule:
    """How one front sizes and encodes its output.

    With ``short_side`` the size is fixed by the input's shape (wanx: short side 1536 keeping the
    ratio up to ``max_aspect``; past it a ``max_aspect`` crop around the face) and requested
    sizes are not taken. Otherwise width and height lie in ``min_side``..``max_side``; a missing
    one takes its default, or follows the input when there is no default.
    """

    name: str
    min_side: int = 64
    max_side: int = 2048
    default_width: int | None = None
    default_height: int | None = None
    short_side: int | None = None
    max_aspect: float | None = None
    formats: tuple[OutputFormat, ...] = tuple(OutputFormat)
    default_format: OutputFormat = OutputFormat.PNG
    default_quality: int = 92

    def check_size(self, width: int | None, height: int | None) -> None:
        """Refuse a requested side outside ``min_side``..``max_side`` (ParameterOutOfRange)."""
        for param, value in (("width", width), ("height", height)):
            if value is not None and not self.min_side <= value <= self.max_side:
                raise ParameterOutOfRange(
                    f"Parameter '{param}' is {value}; it must be between {self.min_side} and {self.max_side}.",
                    param=param,
                )

    def check_format(self, fmt: OutputFormat) -> None:
        """Refuse an output format this front does not return."""
        if fmt not in self.formats:
            allowed = ", ".join(f.value for f in self.formats)
            raise InvalidParameter(
                f"Parameter 'output_format' is '{fmt.value}'; this endpoint returns {allowed}.",
                param="output_format",
            )


def output_rule(front: str, images: ImageLimits) -> OutputRule:
    """The output rule of ``front``; native bounds come from ``Settings.images``."""
    native = OutputRule("native", min_side=images.min_output_side, max_side=images.max_output_side)
    if front in ("native", "volc", "imagex", "tos"):
        # [000] CVProcess states width/height as ints with no range or default; [001] and [003]
        # pass the same model request (ReqJson): restyle's own bounds apply.
        return OutputRule(front, min_side=native.min_side, max_side=native.max_side)
    if front == "portrait":
        # [002] Portrait Photography: width and height in [512, 2048], each 1328 by default.
        return OutputRule("portrait", min_side=512, max_side=2048, default_width=1328, default_height=1328)
    if front == "dashscope":
        # [004] wanx: ratio up to 1.5:1 -> short side 1536 keeping it; wider -> 1.5:1, 2304x1536.
        return OutputRule("dashscope", min_side=1536, max_side=2304, short_side=1536, max_aspect=1.5)
    raise InvalidParameter(
        f"Output rule '{front}' is not known; use one of dashscope, imagex, native, portrait, tos, volc."
    )


def plan_geometry(
    input_size: tuple[int, int],
    face_center: tuple[float, float] | None,
    width: int | None,
    height: int | None,
    max_side: int = 2048,
    min_side: int = 64,
    *,
    rule: OutputRule | None = None,
) -> Geometry:
    """Where to crop and how large to make the output.

    With both ``width`` and ``height`` the largest crop of that aspect that keeps the face
    (or the image centre) as central as the borders allow; with one of them the other follows
    the input aspect within ``min_side``..``max_side`` (past those bounds the input is cropped
    around the face instead); with neither the input size, scaled down to ``max_side`` on the
    long side. A ``rule`` replaces the bounds, fills in its defaults, refuses sizes out of its
    range, or (fixed-size rules) ignores ``width`` and ``height``.
    """
    in_w, in_h = input_size
    if rule is not None:
        if rule.short_side is not None:
            return _fixed_short_side(input_size, face_center, rule.short_side, rule.max_aspect)
        width = rule.default_width if width is None else width
        height = rule.default_height if height is None else height
        rule.check_size(width, height)
        max_side, min_side = rule.max_side, rule.min_side
    if width is None and height is None:
        factor = min(1.0, max_side / max(in_w, in_h))
        return Geometry((0, 0, in_w, in_h), max(1, round(in_w * factor)), max(1, round(in_h * factor)))
    if width is None or height is None:
        if width is None:
            assert height is not None
            width = round(in_w * height / in_h)
            width = max(min_side, min(max_side, width))
        else:
            height = round(in_h * width / in_w)
            height = max(min_side, min(max_side, height))
    return Geometry(_crop_box(input_size, width / height, face_center), width, height)


def _fixed_short_side(
    input_size: tuple[int, int], face_center: tuple[float, float] | None, short_side: int, max_aspect: float | None
) -> Geometry:
    in_w, in_h = input_size
    ratio = max(in_w, in_h) / min(in_w, in_h)
    if max_aspect is not None and ratio > max_aspect:
        aspect = max_aspect if in_w >= in_h else 1.0 / max_aspect
        crop = _crop_box(input_size, aspect, face_center)
        long_side = round(short_side * max_aspect)
        return Geometry(crop, *((long_side, short_side) if in_w >= in_h else (short_side, long_side)))
    long_side = round(short_side * ratio)
    return Geometry((0, 0, in_w, in_h), *((long_side, short_side) if in_w >= in_h else (short_side, long_side)))


def _crop_box(
    input_size: tuple[int, int], aspect: float, center: tuple[float, float] | None
) -> tuple[int, int, int, int]:
    """The largest box of ``aspect`` (width / height) inside the input, as central on ``center`` as the borders allow."""
    in_w, in_h = input_size
    crop_w, crop_h = (in_w, in_w / aspect) if in_w / in_h <= aspect else (in_h * aspect, in_h)
    crop_w, crop_h = min(in_w, round(crop_w)), min(in_h, round(crop_h))
    cx, cy = center if center is not None else (in_w / 2.0, in_h / 2.0)
    left = int(np.clip(round(cx - crop_w / 2.0), 0, in_w - crop_w))
    top = int(np.clip(round(cy - crop_h / 2.0), 0, in_h - crop_h))
    return left, top, left + crop_w, top + crop_h


def crop_to_aspect(image: np.ndarray, max_ratio: float, center: tuple[float, float] | None) -> np.ndarray:
    """``image`` cropped to at most ``max_ratio`` (long side / short side) around ``center`` (x, y).

    An image within the ratio comes back unchanged; ``center`` None crops around the middle.
    """
    height, width = image.shape[:2]
    if max(width, height) / max(1, min(width, height)) <= max_ratio:
        return image
    aspect = max_ratio if width >= height else 1.0 / max_ratio
    left, top, right, bottom = _crop_box((width, height), aspect, center)
    return np.ascontiguousarray(image[top:bottom, left:right])


def apply_geometry(image: np.ndarray, geometry: Geometry) -> np.ndarray:
    """Crop and resize ``image`` as planned (area filter down, cubic up)."""
    left, top, right, bottom = geometry.crop
    cropped = image[top:bottom, left:right]
    if cropped.shape[1] == geometry.width and cropped.shape[0] == geometry.height:
        return np.ascontiguousarray(cropped)
    shrinking = geometry.width < cropped.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(cropped, (geometry.width, geometry.height), interpolation=interpolation)
