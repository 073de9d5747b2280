"""``bright,<-100..100>``: shift brightness; 0 keeps the image, 100 adds the full range (white)."""

from __future__ import annotations

import numpy as np

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import integer
from restyle.imaging.actions.tones import apply_table, table_of


class Bright(Action):
    """Brighten or darken."""

    name = "bright"
    params = (integer("value", -100, 100),)
    positional = "value"
    required = ("value",)

    def apply(self, canvas: Canvas) -> Canvas:
        shift = self.int_value("value") * 255 / 100
        return apply_table(canvas, table_of(np.arange(256, dtype=np.float32) + shift))
