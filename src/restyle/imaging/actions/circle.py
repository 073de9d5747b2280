"""``circle``: the largest circle of radius ``r`` (1..4096, capped at half the short side) around the
centre, cut out to a 2r x 2r image; outside it is transparent (PNG, WebP...) or white (JPEG)."""

from __future__ import annotations

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.masks import apply_mask, circle_mask
from restyle.imaging.actions.params import integer


class Circle(Action):
    """Cut a circle out of the centre."""

    name = "circle"
    params = (integer("r", 1, 4096),)
    required = ("r",)

    def radius(self, width: int, height: int) -> int:
        return max(1, min(self.int_value("r"), min(width, height) // 2))

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        side = 2 * self.radius(width, height)
        return min(side, width), min(side, height)

    def apply(self, canvas: Canvas) -> Canvas:
        radius = self.radius(canvas.width, canvas.height)
        side_w, side_h = self.output_size(canvas.width, canvas.height)
        left, top = (canvas.width - side_w) // 2, (canvas.height - side_h) // 2
        square = canvas.pixels[top : top + side_h, left : left + side_w]
        mask = circle_mask(max(side_w, side_h), radius)[:side_h, :side_w]
        canvas.pixels = apply_mask(canvas, square, mask)
        return canvas
