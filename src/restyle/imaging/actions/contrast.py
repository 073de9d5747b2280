"""``contrast,<-100..100>``: scale distances from mid-grey; 0 keeps, -100 is flat grey, 100 doubles."""

from __future__ import annotations

import numpy as np

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import integer
from restyle.imaging.actions.tones import apply_table, table_of


class Contrast(Action):
    """Raise or lower contrast."""

    name = "contrast"
    params = (integer("value", -100, 100),)
    positional = "value"
    required = ("value",)

    def apply(self, canvas: Canvas) -> Canvas:
        factor = (100 + self.int_value("value")) / 100
        levels = np.arange(256, dtype=np.float32)
        return apply_table(canvas, table_of(127.5 + (levels - 127.5) * factor))
