"""``blur``: Gaussian blur of radius ``r`` (1..50 pixels) and standard deviation ``s`` (1..50); both
are required, as OSS documents."""

from __future__ import annotations

import cv2

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import integer


class Blur(Action):
    """Blur the image."""

    name = "blur"
    params = (integer("r", 1, 50), integer("s", 1, 50))
    required = ("r",)

    def check(self) -> None:
        if "s" not in self.given:
            raise self.fail("Action 'blur' needs both 'r' (radius, 1-50) and 's' (sigma, 1-50).", "s")

    def apply(self, canvas: Canvas) -> Canvas:
        size = 2 * self.int_value("r") + 1
        sigma = float(self.int_value("s"))
        canvas.pixels = cv2.GaussianBlur(canvas.pixels, (size, size), sigma, borderType=cv2.BORDER_REFLECT101)
        return canvas
