"""``rounded-corners``: round the four corners with radius ``r`` (1..4096, capped at half the short
side); the corners become transparent (PNG, WebP...) or white (JPEG)."""

from __future__ import annotations

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.encoding import flatten
from restyle.imaging.actions.masks import apply_mask, circle_mask
from restyle.imaging.actions.params import integer


class RoundedCorners(Action):
    """Round the corners."""

    name = "rounded-corners"
    params = (integer("r", 1, 4096),)
    required = ("r",)

    def apply(self, canvas: Canvas) -> Canvas:
        radius = min(self.int_value("r"), min(canvas.width, canvas.height) // 2)
        if radius <= 0:
            return canvas
        # only the four r x r corner squares change: mask those, copy the rest as it is
        if canvas.has_alpha and not canvas.keeps_alpha:
            canvas.pixels = flatten(canvas.pixels)
        out = canvas.with_alpha().copy() if canvas.keeps_alpha else canvas.pixels.copy()
        corner = circle_mask(2 * radius, radius)
        height, width = canvas.height, canvas.width
        for rows, cols, mask_rows, mask_cols in (
            (slice(0, radius), slice(0, radius), slice(0, radius), slice(0, radius)),
            (slice(0, radius), slice(width - radius, width), slice(0, radius), slice(radius, None)),
            (slice(height - radius, height), slice(0, radius), slice(radius, None), slice(0, radius)),
            (
                slice(height - radius, height),
                slice(width - radius, width),
                slice(radius, None),
                slice(radius, None),
            ),
        ):
            out[rows, cols] = apply_mask(canvas, canvas.pixels[rows, cols], corner[mask_rows, mask_cols])
        canvas.pixels = out
        return canvas
