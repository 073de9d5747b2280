"""Engines turn a decoded portrait into a stylized one. Chosen by short name in settings."""

from __future__ import annotations

from restyle.engines.base import Engine, EngineJob, EngineOutput
from restyle.registry import Registry

ENGINES: Registry[Engine] = Registry(
    "engine",
    {
        "classic": "restyle.engines.classic.engine:ClassicEngine",
        "diffusion": "restyle.engines.diffusion:DiffusionEngine",
        "onnx": "restyle.engines.onnx:OnnxEngine",
    },
)

__all__ = ["ENGINES", "Engine", "EngineJob", "EngineOutput"]
