"""``flip,<h|v|both>``: mirror left-right (h), top-bottom (v) or both."""

from __future__ import annotations

import cv2

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import choice

_CODES = {"h": 1, "v": 0, "both": -1}


class Flip(Action):
    """Mirror the image."""

    name = "flip"
    params = (choice("direction", "h", "v", "both"),)
    positional = "direction"
    required = ("direction",)

    def apply(self, canvas: Canvas) -> Canvas:
        canvas.pixels = cv2.flip(canvas.pixels, _CODES[self.str_value("direction")])
        return canvas
