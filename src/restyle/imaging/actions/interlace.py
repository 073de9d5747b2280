"""``interlace,<0|1>``: 1 writes a progressive JPEG, an Adam7-interlaced PNG or an interlaced GIF.
May appear once."""

from __future__ import annotations

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import integer


class Interlace(Action):
    """Ask for progressive / interlaced output."""

    name = "interlace"
    params = (integer("value", 0, 1),)
    positional = "value"
    required = ("value",)
    once = True

    def apply(self, canvas: Canvas) -> Canvas:
        canvas.interlace = bool(self.int_value("value"))
        return canvas
