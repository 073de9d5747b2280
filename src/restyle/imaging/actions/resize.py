"""``resize``: scale by width, height, long or short side, or percent; modes lfit|mfit|fill|pad|fixed.

Parameters (as TOS/OSS document them): ``w``, ``h``, ``l``, ``s`` 1..16384; ``p`` percent 1..1000
(not with the others); ``m`` lfit (default), mfit, fill, pad, fixed; ``limit`` 1 (default: a target
larger than the image leaves it unchanged) or 0; ``color`` the pad colour (FFFFFF).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import choice, colour, integer

MAX_SIDE = 16384


@dataclass(frozen=True)
class ResizePlan:
    """Scale to ``scaled``, then crop (fill) or pad (pad) to ``out``; ``scaled`` equal to the input means no-op."""

    scaled: tuple[int, int]
    out: tuple[int, int]


class Resize(Action):
    """Scale the image; see the module docstring for the parameters."""

    name = "resize"
    params = (
        choice("m", "lfit", "mfit", "fill", "pad", "fixed", default="lfit"),
        integer("w", 1, MAX_SIDE),
        integer("h", 1, MAX_SIDE),
        integer("l", 1, MAX_SIDE),
        integer("s", 1, MAX_SIDE),
        integer("p", 1, 1000),
        integer("limit", 0, 1, default=1),
        colour("color", "FFFFFF"),
    )
    required = ("w", "h", "l", "s", "p")

    def check(self) -> None:
        if "p" in self.given and any(k in self.given for k in ("w", "h", "l", "s")):
            raise self.fail(
                "Action 'resize' takes either 'p' (percent) or sizes (w, h, l, s), not both.", "p"
            )
        if any(k in self.given for k in ("l", "s")) and any(k in self.given for k in ("w", "h")):
            raise self.fail("Action 'resize' takes either w/h or l/s, not both.", "l")
        if "p" in self.given and "m" in self.given:
            raise self.fail("Action 'resize' parameter 'm' does not apply to a percent resize ('p').", "m")
        if "color" in self.given and self.str_value("m") != "pad":
            raise self.fail("Action 'resize' parameter 'color' applies only to m_pad.", "color")

    def plan(self, width: int, height: int) -> ResizePlan:
        """The geometry of this resize on a ``width`` x ``height`` image."""
        unchanged = ResizePlan((width, height), (width, height))
        if "p" in self.given:
            factor = self.int_value("p") / 100
            if factor > 1 and self.int_value("limit"):
                return unchanged
            size = (_side(width * factor), _side(height * factor))
            return ResizePlan(size, size)
        box_w, box_h = self._box(width, height)
        mode = self.str_value("m")
        fx, fy = box_w / width, box_h / height
        if mode == "fixed":
            if (fx > 1 or fy > 1) and self.int_value("limit"):
                return unchanged
            return ResizePlan((box_w, box_h), (box_w, box_h))
        factor = max(fx, fy) if mode in ("mfit", "fill") else min(fx, fy)
        if factor > 1 and self.int_value("limit"):
            return unchanged
        scaled = (_side(width * factor), _side(height * factor))
        if mode in ("fill", "pad"):
            return ResizePlan(scaled, (box_w, box_h))
        return ResizePlan(scaled, scaled)

    def _box(self, width: int, height: int) -> tuple[int, int]:
        """The target rectangle; a missing side follows the image's aspect ratio."""
        w, h = self.value("w"), self.value("h")
        if "l" in self.given or "s" in self.given:
            long_side, short_side = self.value("l"), self.value("s")
            w, h = (long_side, short_side) if width >= height else (short_side, long_side)
        if isinstance(w, int) and isinstance(h, int):
            return w, h
        if isinstance(w, int):
            return w, _side(height * w / width)
        assert isinstance(h, int)
        return _side(width * h / height), h

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        return self.plan(width, height).out

    def apply(self, canvas: Canvas) -> Canvas:
        return self.render(canvas, self.plan(canvas.width, canvas.height))

    def render(self, canvas: Canvas, plan: ResizePlan) -> Canvas:
        """Carry out ``plan`` (computed on the source size; the pixels may be a JPEG draft of it)."""
        pixels = canvas.pixels
        if plan.scaled != (canvas.width, canvas.height):
            pixels = cv2.resize(pixels, plan.scaled, interpolation=_interpolation(pixels, plan.scaled))
        if plan.out != plan.scaled:
            pixels = self._fit(canvas, pixels, plan)
        canvas.pixels = pixels
        return canvas

    def _fit(self, canvas: Canvas, pixels: np.ndarray, plan: ResizePlan) -> np.ndarray:
        (sw, sh), (ow, oh) = plan.scaled, plan.out
        if self.str_value("m") == "fill":  # centre crop of the covering image
            x, y = (sw - ow) // 2, (sh - oh) // 2
            return pixels[y : y + oh, x : x + ow]
        hex_colour = self.str_value("color")
        red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
        rgb = list(canvas.colour((red, green, blue)))
        fill = rgb + [255] if pixels.shape[2] == 4 else rgb
        out = np.empty((oh, ow, pixels.shape[2]), dtype=np.uint8)
        out[...] = fill
        x, y = (ow - sw) // 2, (oh - sh) // 2
        out[y : y + sh, x : x + sw] = pixels
        return out


def _interpolation(pixels: np.ndarray, size: tuple[int, int]) -> int:
    """Area averaging for real shrinks, bilinear under 2x (OpenCV's area filter at a non-whole factor
    is 6x slower and no sharper there; a JPEG draft has usually done the big step), cubic to enlarge."""
    fx, fy = size[0] / pixels.shape[1], size[1] / pixels.shape[0]
    if fx >= 1 and fy >= 1:
        return cv2.INTER_CUBIC
    return cv2.INTER_LINEAR if fx > 0.5 and fy > 0.5 else cv2.INTER_AREA


def _side(value: float) -> int:
    return max(1, min(MAX_SIDE, round(value)))
