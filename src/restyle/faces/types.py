"""Value types of the face toolkit."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Face:
    """One detected face: its box, 68 landmarks (x, y) and, once computed, its embedding."""

    box: tuple[int, int, int, int]  # left, top, right, bottom in image pixels
    landmarks: np.ndarray  # (68, 2) float32, iBUG 300-W order
    score: float = 0.0  # detector confidence (HOG score or CNN confidence)
    embedding: np.ndarray | None = None  # (128,) float64

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def center(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2.0, (self.box[1] + self.box[3]) / 2.0)

    def with_embedding(self, embedding: np.ndarray) -> Face:
        return replace(self, embedding=embedding)

    def transformed(self, scale: float, offset_x: float, offset_y: float) -> Face:
        """The same face after ``p' = p * scale - offset`` (crop then resize of the image)."""
        left, top, right, bottom = self.box
        box = (
            int(round(left * scale - offset_x)),
            int(round(top * scale - offset_y)),
            int(round(right * scale - offset_x)),
            int(round(bottom * scale - offset_y)),
        )
        pts = (self.landmarks * scale - np.array([offset_x, offset_y], dtype=np.float32)).astype(np.float32)
        return replace(self, box=box, landmarks=pts)
