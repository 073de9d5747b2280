"""Engine plug-in base: ``setup()`` once per worker, ``generate(job)`` per task, ``healthcheck()``."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from restyle.domain import GenerateRequest, StylePreset
from restyle.faces.types import Face
from restyle.styles import StyleCatalog


@dataclass
class EngineJob:
    """What an engine receives: the validated request plus decoded, size-adjusted inputs.

    ``image`` is RGB uint8 at the final output size; ``faces`` are in its coordinates with
    the main face first; ``seed`` is resolved (never -1). ``cache`` belongs to the engine: work it
    may reuse between ``generate`` and the guard's ``render_face_detail`` calls for this job.
    """

    request: GenerateRequest
    image: np.ndarray
    faces: list[Face]
    seed: int
    preset: StylePreset | None = None
    style_image: np.ndarray | None = None
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class EngineOutput:
    """The engine's image (RGB uint8, same size as the job's image) and notes for the result."""

    image: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    prompt_words_used: list[str] = field(default_factory=list)
    prompt_words_ignored: list[str] = field(default_factory=list)


class Engine(abc.ABC):
    """Base of every engine plug-in (classic, diffusion, onnx)."""

    name: str = "engine"
    style_aliases: dict[str, str] = {}  # extra names accepted for presets, e.g. "oil" -> "oil_painting"

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Load models; called once per worker before the first job."""

    @abc.abstractmethod
    def generate(self, job: EngineJob) -> EngineOutput:
        """Render one stylized image for ``job``."""

    def render_face_detail(self, job: EngineJob, stylized: np.ndarray, detail: float) -> np.ndarray | None:
        """``stylized`` (this engine's output for ``job``, after retouch) with the job's faces redrawn
        with more of the photo's structure, ``detail`` in 0..1, in the style's own terms.

        The identity guard calls it before any blend of photo pixels. None (the default) means the
        engine cannot: the guard goes straight to its photo-blend steps.
        """
        return None

    @abc.abstractmethod
    def presets(self) -> list[StylePreset]:
        """The style presets this engine offers."""

    def catalog(self) -> StyleCatalog:
        """The presets with lookup by index, name and display names."""
        return StyleCatalog(self.presets(), self.style_aliases)

    def healthcheck(self) -> dict[str, Any]:
        return {"engine": self.name, "ok": True}
