"""``restyle styles``: list the presets of the configured engine."""

from __future__ import annotations

import json
import unicodedata
from typing import Annotated

import typer


def styles_command(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List style presets (index, name, display names)."""
    from restyle.config import Settings
    from restyle.engines import ENGINES

    settings = Settings.load()
    engine = ENGINES.create(settings.engine.name, **settings.engine.options)
    presets = engine.presets()
    if as_json:
        print(json.dumps([p.to_dict() for p in presets], ensure_ascii=False, indent=2))
        return
    for p in presets:
        index = "-" if p.index is None else str(p.index)
        print(f"{index:>2}  {p.name:<18} {p.title_en:<26} {_pad(p.title_zh, 10)} {p.description}")


def _pad(text: str, columns: int) -> str:
    """``text`` padded to ``columns`` terminal columns (CJK characters take two)."""
    width = sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
    return text + " " * max(0, columns - width)


def register(app: typer.Typer) -> None:
    app.command("styles")(styles_command)
