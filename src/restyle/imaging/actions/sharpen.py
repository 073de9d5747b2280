"""``sharpen,<50..399>``: unsharp mask; 100 is a moderate sharpening (OSS suggests 100)."""

from __future__ import annotations

import cv2

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import integer


class Sharpen(Action):
    """Sharpen the image."""

    name = "sharpen"
    params = (integer("value", 50, 399),)
    positional = "value"
    required = ("value",)

    def apply(self, canvas: Canvas) -> Canvas:
        amount = self.int_value("value") / 100.0
        rgb = canvas.pixels[..., :3]
        soft = cv2.GaussianBlur(rgb, (0, 0), 1.0)
        sharp = cv2.addWeighted(rgb, 1.0 + amount, soft, -amount, 0)
        if canvas.has_alpha:
            canvas.pixels = canvas.pixels.copy()
            canvas.pixels[..., :3] = sharp
        else:
            canvas.pixels = sharp
        return canvas
