"""The working image a chain of actions passes along, and the output settings the chain has chosen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# formats whose files keep an alpha channel; others get transparent areas composited on white
ALPHA_FORMATS = frozenset({"png", "webp", "avif", "heic", "gif"})
WHITE = (255, 255, 255)


@dataclass
class Canvas:
    """Pixels (H x W x 3 or H x W x 4 with alpha, uint8) plus what the encoder will be asked for.

    ``bgr`` says the colour channels are in OpenCV's order (a JPEG decoded by OpenCV stays BGR up
    to OpenCV's JPEG encoder, saving two conversions); steps that use a colour ask :meth:`colour`.

    ``target_format`` is known before the first step (the chain's ``format`` action or the
    source's format), so that steps which uncover background (rotate, circle) fill it with
    transparency only when the output can keep it.
    """

    pixels: np.ndarray
    source_format: str
    target_format: str
    source_quality: int | None = None  # estimated from a JPEG's quantisation tables
    quality_relative: int | None = None
    quality_absolute: int | None = None
    interlace: bool = False
    resolve_object: Callable[[str], bytes] | None = None
    bgr: bool = False
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def has_alpha(self) -> bool:
        return self.pixels.ndim == 3 and self.pixels.shape[2] == 4

    @property
    def keeps_alpha(self) -> bool:
        """True when the output format can store transparency."""
        return self.target_format in ALPHA_FORMATS

    def background(self) -> tuple[int, ...]:
        """The fill for uncovered areas: transparent when the output keeps alpha, else white."""
        return (0, 0, 0, 0) if self.keeps_alpha else WHITE

    def colour(self, rgb: tuple[int, int, int]) -> tuple[int, int, int]:
        """An RGB colour in the pixels' channel order."""
        return (rgb[2], rgb[1], rgb[0]) if self.bgr else rgb

    def with_alpha(self) -> np.ndarray:
        """The pixels with an alpha channel (a new array when they had none)."""
        if self.has_alpha:
            return self.pixels
        height, width = self.pixels.shape[:2]
        rgba = np.empty((height, width, 4), dtype=np.uint8)
        rgba[..., :3] = self.pixels
        rgba[..., 3] = 255
        return rgba


GRAVITIES = ("nw", "north", "ne", "west", "center", "east", "sw", "south", "se")


def gravity_cell(gravity: str) -> tuple[int, int]:
    """The (column, row) of a gravity in the 3 x 3 grid: nw (0, 0) .. se (2, 2)."""
    index = GRAVITIES.index(gravity)
    return index % 3, index // 3
