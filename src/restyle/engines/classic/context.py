"""What a style renderer receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from restyle.faces.types import Face


@dataclass
class RenderContext:
    """Inputs of one style renderer.

    ``image`` is RGB uint8; ``faces`` are in its coordinates (main face first); ``rng`` is
    seeded from the request so a renderer that draws noise stays deterministic; ``strength``
    is the style strength in 0..1; ``options`` carries prompt modifiers. ``detail`` in 0..1 asks
    the renderer to draw more of the photo's structure (edges, shading) in its own line work, tones
    and palette: the identity guard raises it to bring a drifted face back without pasting photo
    pixels; 0 is the preset's normal look.
    """

    image: np.ndarray
    faces: list[Face]
    rng: np.random.Generator
    strength: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)
    detail: float = 0.0

    def face_keep(self, floor: float) -> float:
        """How much of a preset's face-specific structure keeping to apply: ``floor`` (a share of
        its full amount) at ``detail`` 0, rising to the full amount (1.0) at ``detail`` 1."""
        detail = min(1.0, max(0.0, float(self.detail)))
        return floor + (1.0 - floor) * detail

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def scale(self) -> float:
        """Size factor relative to a 512 px short side, for kernel sizes that track resolution."""
        return min(self.height, self.width) / 512.0
