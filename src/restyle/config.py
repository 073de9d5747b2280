"""Settings: environment variables ``RESTYLE_*`` (nested with ``__``) and an optional config file.

Each plug-in kind has its own nested section, e.g. ``RESTYLE_ENGINE__NAME=classic`` or
``RESTYLE_STORAGE__KIND=local``. ``RESTYLE_DATA_DIR`` sets the root of all local state.
A YAML or JSON file named by ``RESTYLE_CONFIG`` supplies defaults that the environment overrides.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EngineSettings(BaseModel):
    """Which engine renders and its options."""

    name: str = "classic"
    options: dict[str, Any] = Field(default_factory=dict)


class ImageLimits(BaseModel):
    """Limits on input images (bytes and pixels) and output size."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 36_000_000  # decoded pixels; above this the image is refused (decompression bombs)
    max_side: int = 8192
    min_side: int = 32
    max_output_side: int = 2048
    min_output_side: int = 64


class FaceSettings(BaseModel):
    """Face detection and identity defaults."""

    detector: str = "hog"
    identity_threshold: float = 0.5


class Settings(BaseSettings):
    """All of restyle's configuration."""

    model_config = SettingsConfigDict(env_prefix="RESTYLE_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("./data")
    engine: EngineSettings = Field(default_factory=EngineSettings)
    images: ImageLimits = Field(default_factory=ImageLimits)
    faces: FaceSettings = Field(default_factory=FaceSettings)

    @classmethod
    def load(cls, config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
        """Settings from an optional file (``RESTYLE_CONFIG``), then the environment, then overrides."""
        path = config_file or os.environ.get("RESTYLE_CONFIG")
        file_values: dict[str, Any] = {}
        if path:
            text = Path(path).read_text(encoding="utf-8")
            if str(path).endswith((".yaml", ".yml")):
                import yaml

                file_values = yaml.safe_load(text) or {}
            else:
                file_values = json.loads(text)
        env_values = cls().model_dump(exclude_unset=True)
        merged = _deep_merge(_deep_merge(file_values, env_values), overrides)
        return cls.model_validate(merged)


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
