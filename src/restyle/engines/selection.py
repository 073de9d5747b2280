"""Choosing an engine per run (``restyle run --engine onnx --model FILE.onnx --layout NHWC``)."""

from __future__ import annotations

from typing import Any

from restyle.errors import InvalidParameter


def _value(text: str) -> Any:
    """``"8"`` -> 8, ``"0.5"`` -> 0.5, ``"true"`` -> True, anything else stays text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def engine_options(model: str | None, layout: str | None, pairs: list[str]) -> dict[str, Any]:
    """Engine options from the CLI: ``--model``, ``--layout`` and repeated ``--engine-option KEY=VALUE``."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidParameter(
                f"Option --engine-option '{pair}' is not KEY=VALUE (e.g. channels=BGR).",
                param="engine_option",
            )
        options[key.strip()] = _value(value)
    if model is not None:
        options["model"] = model
    if layout is not None:
        options["layout"] = layout.upper()
    return options


def with_engine(settings: Any, name: str | None, options: dict[str, Any]) -> Any:
    """``settings`` with the engine replaced by ``name`` and ``options`` (unchanged when neither is given)."""
    if name is None and not options:
        return settings
    engine = settings.engine.model_copy(
        update={
            "name": name or settings.engine.name,
            "options": options if name else {**settings.engine.options, **options},
        }
    )
    return settings.model_copy(update={"engine": engine})
