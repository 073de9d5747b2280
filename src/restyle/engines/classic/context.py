"""What a style renderer receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from restyle.faces.types import Face

T = TypeVar("T")


def _copied(value: Any) -> Any:
    """``value`` with its arrays copied (also inside tuples and lists), other objects as they are."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple | list):
        return type(value)(_copied(v) for v in value)
    return value


@dataclass
class RenderContext:
    """Inputs of one style renderer.

    ``image`` is RGB uint8; ``faces`` are in its coordinates (main face first); ``rng`` is
    seeded from the request so a renderer that draws noise stays deterministic; ``strength``
    is the style strength in 0..1; ``options`` carries prompt modifiers. ``detail`` in 0..1 asks
    the renderer to draw more of the photo's structure (edges, shading) in its own line work, tones
    and palette: the identity guard raises it to bring a drifted face back without pasting photo
    pixels; 0 is the preset's normal look. ``cache`` (the job's, shared by its renders) lets
    :meth:`memo` reuse the steps that do not depend on ``detail`` when the guard asks again.
    """

    image: np.ndarray
    faces: list[Face]
    rng: np.random.Generator
    strength: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)
    detail: float = 0.0
    cache: dict[str, Any] | None = None

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, or its result from an earlier render of the same job.

        Only for steps that do not read ``detail``. A stored result is reused only when the random
        generator is where it was when the result was computed, and the generator is then moved to
        where that step left it, so a render that reuses steps draws exactly what a fresh one
        would. Arrays are handed out as copies: callers may paint on them in place; other objects
        (e.g. Regions) must be treated as read-only.
        """
        if self.cache is None:
            return compute()
        before = self.rng.bit_generator.state
        stored = self.cache.get(key)
        if stored is not None and stored[0] == before:
            self.rng.bit_generator.state = stored[2]
            return _copied(stored[1])  # type: ignore[no-any-return]
        value = compute()
        self.cache[key] = (before, value, self.rng.bit_generator.state)
        return _copied(value)  # type: ignore[no-any-return]

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
