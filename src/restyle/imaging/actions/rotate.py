"""``rotate,<angle>``: turn clockwise by 0..360 degrees. The canvas grows to hold the whole image;
uncovered corners are transparent when the output keeps alpha, else white. Multiples of 90 are exact."""

from __future__ import annotations

import math

import cv2
import numpy as np

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import integer


class Rotate(Action):
    """Rotate clockwise."""

    name = "rotate"
    params = (integer("angle", 0, 360),)
    positional = "angle"
    required = ("angle",)

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        angle = self.int_value("angle") % 360
        if angle in (0, 180):
            return width, height
        if angle in (90, 270):
            return height, width
        radians = math.radians(angle)
        cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
        return math.ceil(width * cos + height * sin - 1e-9), math.ceil(width * sin + height * cos - 1e-9)

    def apply(self, canvas: Canvas) -> Canvas:
        angle = self.int_value("angle") % 360
        exact = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
        if angle == 0:
            return canvas
        if angle in exact:
            canvas.pixels = cv2.rotate(canvas.pixels, exact[angle])
            return canvas
        out_w, out_h = self.output_size(canvas.width, canvas.height)
        pixels = canvas.with_alpha() if canvas.keeps_alpha else canvas.pixels
        matrix = cv2.getRotationMatrix2D(((canvas.width - 1) / 2, (canvas.height - 1) / 2), -angle, 1.0)
        matrix[0, 2] += (out_w - canvas.width) / 2
        matrix[1, 2] += (out_h - canvas.height) / 2
        fill = canvas.background()[: pixels.shape[2]]
        if pixels.shape[2] == 4 and not canvas.keeps_alpha:
            fill = (255, 255, 255, 255)
        canvas.pixels = np.ascontiguousarray(
            cv2.warpAffine(
                pixels,
                matrix,
                (out_w, out_h),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=tuple(float(v) for v in fill),
            )
        )
        return canvas
