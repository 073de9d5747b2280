"""``indexcrop``: cut the image into strips ``x`` pixels wide (or ``y`` high) and keep strip ``i``
(0 first). As OSS documents, an ``i`` past the last strip returns the image unchanged."""

from __future__ import annotations

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import integer

MAX = 16384


class IndexCrop(Action):
    """Keep one strip of the image."""

    name = "indexcrop"
    params = (integer("x", 1, MAX), integer("y", 1, MAX), integer("i", 0, MAX, default=0))
    required = ("x", "y")

    def check(self) -> None:
        if "x" in self.given and "y" in self.given:
            raise self.fail(
                "Action 'indexcrop' takes 'x' (vertical strips) or 'y' (horizontal strips), not both.", "y"
            )

    def span(self, length: int) -> tuple[int, int] | None:
        step = self.int_value("x" if "x" in self.given else "y")
        start = step * self.int_value("i")
        return None if start >= length else (start, min(length, start + step))

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        along_x = "x" in self.given
        span = self.span(width if along_x else height)
        if span is None:
            return width, height
        return (span[1] - span[0], height) if along_x else (width, span[1] - span[0])

    def apply(self, canvas: Canvas) -> Canvas:
        along_x = "x" in self.given
        span = self.span(canvas.width if along_x else canvas.height)
        if span is not None:
            start, stop = span
            canvas.pixels = canvas.pixels[:, start:stop] if along_x else canvas.pixels[start:stop]
        return canvas
