"""Look up a style preset by index, name or display name in an engine's catalogue."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from restyle.domain import StylePreset
from restyle.errors import UnknownStyle


class StyleCatalog:
    """An engine's presets with lookup by ``2``, ``"2"``, ``"anime"``, ``"Anime"`` or ``"二次元"``."""

    def __init__(self, presets: Iterable[StylePreset], aliases: Mapping[str, str] | None = None) -> None:
        self.presets = list(presets)
        self._by_name = {p.name: p for p in self.presets}
        self._by_index = {p.index: p for p in self.presets if p.index is not None}
        self._aliases: dict[str, str] = {}
        for p in self.presets:
            for alias in (p.name, p.title_en, p.title_zh, p.name.replace("_", "-"), p.name.replace("_", " ")):
                self._aliases[alias.lower()] = p.name
        for alias, name in (aliases or {}).items():
            self._aliases[alias.lower()] = name

    def find(self, style: str | int) -> StylePreset:
        """The preset for ``style`` or UnknownStyle naming the valid choices."""
        text = str(style).strip()
        if isinstance(style, int) or (text.lstrip("-").isascii() and text.lstrip("-").isdigit()):
            index = int(text) if len(text) < 10 else -1
            if index in self._by_index:
                return self._by_index[index]
            high = max(self._by_index) if self._by_index else 0
            raise UnknownStyle(
                f"Parameter 'style' index {index} is not a preset; use 0 to {high} or a name "
                "('restyle styles' or GET /v1/styles lists them).",
                param="style",
            )
        name = self._aliases.get(text.lower())
        if name is None:
            raise UnknownStyle(
                f"Parameter 'style' has unknown value '{style}'; choose one of: {', '.join(self._by_name)}.",
                param="style",
            )
        return self._by_name[name]
