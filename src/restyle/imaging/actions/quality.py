"""``quality``: ``q`` 1..100 relative to the source JPEG's own quality (q_80 of a quality-90 JPEG
is 72), or ``Q`` 1..100 absolute. For JPEG, WebP, AVIF and HEIC output. May appear once."""

from __future__ import annotations

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import integer


class Quality(Action):
    """Set the encoder's quality."""

    name = "quality"
    params = (integer("q", 1, 100), integer("Q", 1, 100))
    required = ("q", "Q")
    once = True

    def check(self) -> None:
        if "q" in self.given and "Q" in self.given:
            raise self.fail("Action 'quality' takes 'q' (relative) or 'Q' (absolute), not both.", "Q")

    def apply(self, canvas: Canvas) -> Canvas:
        if "q" in self.given:
            canvas.quality_relative = self.int_value("q")
        else:
            canvas.quality_absolute = self.int_value("Q")
        return canvas
