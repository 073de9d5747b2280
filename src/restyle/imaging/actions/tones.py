"""Lookup tables shared by ``bright`` and ``contrast``: one pass over the colour channels."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.imaging.actions.canvas import Canvas


def apply_table(canvas: Canvas, table: np.ndarray) -> Canvas:
    """``table`` (256 uint8 values) applied to R, G and B; alpha is kept."""
    if canvas.has_alpha:
        out = canvas.pixels.copy()
        out[..., :3] = cv2.LUT(np.ascontiguousarray(canvas.pixels[..., :3]), table)
        canvas.pixels = out
    else:
        canvas.pixels = cv2.LUT(np.ascontiguousarray(canvas.pixels), table)
    return canvas


def table_of(values: np.ndarray) -> np.ndarray:
    table: np.ndarray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return table
