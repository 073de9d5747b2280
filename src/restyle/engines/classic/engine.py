"""The classic engine: face-aware non-photorealistic rendering with OpenCV and NumPy."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from restyle.domain import StylePreset
from restyle.engines.base import Engine, EngineJob, EngineOutput
from restyle.engines.classic.context import RenderContext
from restyle.engines.classic.presets import PRESETS
from restyle.engines.classic.renderers import RENDERERS

Renderer = Callable[[RenderContext], np.ndarray]


DEFAULT_STYLE = "anime"


def load_renderer(style: str) -> Renderer:
    module_name, _, attr = RENDERERS[style].partition(":")
    module = importlib.import_module(f"restyle.engines.classic.{module_name}")
    renderer: Renderer = getattr(module, attr)
    return renderer


class ClassicEngine(Engine):
    """CPU engine with the presets of :mod:`restyle.engines.classic.presets`."""

    name = "classic"

    def presets(self) -> list[StylePreset]:
        return list(PRESETS)

    def generate(self, job: EngineJob) -> EngineOutput:
        style = job.preset.name if job.preset else DEFAULT_STYLE
        ctx = RenderContext(
            image=job.image,
            faces=job.faces,
            rng=np.random.default_rng(job.seed),
            strength=job.request.strength,
        )
        image = load_renderer(style)(ctx)
        info: dict[str, Any] = {"style": style}
        return EngineOutput(image=image, info=info)
