"""``auto-orient,<0|1>``: 1 (what restyle always does otherwise) turns the image upright by its EXIF
orientation; 0 keeps the pixels as stored. Acts at decode time, so it may appear once."""

from __future__ import annotations

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import integer


class AutoOrient(Action):
    """Choose whether EXIF orientation is applied when the image is decoded."""

    name = "auto-orient"
    params = (integer("value", 0, 1),)
    positional = "value"
    required = ("value",)
    once = True

    def apply(self, canvas: Canvas) -> Canvas:
        return canvas  # the pipeline reads this before decoding
