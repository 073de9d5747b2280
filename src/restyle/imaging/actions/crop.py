"""``crop``: a ``w`` x ``h`` rectangle from an origin: the top-left corner of gravity ``g``'s cell in a
3 x 3 grid (nw by default), moved by ``x``, ``y``. A rectangle past the edge stops at the edge; an
origin outside the image is an error."""

from __future__ import annotations

from restyle.errors import ActionOutOfRange
from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import GRAVITIES, Canvas, gravity_cell
from restyle.imaging.actions.params import PARAM, choice, integer

MAX = 16384


class Crop(Action):
    """Cut a rectangle out of the image."""

    name = "crop"
    params = (
        integer("w", 1, MAX),
        integer("h", 1, MAX),
        integer("x", 0, MAX, default=0),
        integer("y", 0, MAX, default=0),
        choice("g", *GRAVITIES, default="nw"),
    )
    required = ("w", "h", "x", "y", "g")

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the crop on a ``width`` x ``height`` image."""
        column, row = gravity_cell(self.str_value("g"))
        left = column * width // 3 + self.int_value("x")
        top = row * height // 3 + self.int_value("y")
        if left >= width or top >= height:
            raise ActionOutOfRange(
                f"Action 'crop' starts at ({left}, {top}), outside the {width}x{height} image; lower 'x' or 'y'.",
                param=PARAM,
                details={"action": self.name, "parameter": "x" if left >= width else "y"},
            )
        w, h = self.value("w"), self.value("h")
        right = width if not isinstance(w, int) else min(width, left + w)
        bottom = height if not isinstance(h, int) else min(height, top + h)
        return left, top, right, bottom

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        left, top, right, bottom = self.box(width, height)
        return right - left, bottom - top

    def apply(self, canvas: Canvas) -> Canvas:
        left, top, right, bottom = self.box(canvas.width, canvas.height)
        canvas.pixels = canvas.pixels[top:bottom, left:right]
        return canvas
