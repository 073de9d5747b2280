"""Named processing templates: a YAML or JSON file mapping names to action strings.

``thumbnail: "image/resize,m_fill,w_256,h_256/format,webp"``. Names follow veImageX templates
(``tplv-<service>-<name>``) and TOS image styles (``ProcessStyle``). Every template is parsed when
the file is loaded, so a bad one is reported at start-up, naming the template and the problem.
The file named by ``images.templates_file`` replaces the packaged defaults (``restyle/data/templates.yaml``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path

import yaml

from restyle.errors import RestyleError, TemplateInvalid, UnknownTemplate
from restyle.imaging.actions import ActionChain, parse_actions

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,127}")
DEFAULT_FILE = "templates.yaml"


class TemplateSet:
    """Parsed templates by name; ``get(name)`` raises ``template.unknown`` (404) for a missing one."""

    def __init__(self, chains: Mapping[str, ActionChain], source: str = "") -> None:
        self._chains = dict(chains)
        self.source = source

    @classmethod
    def load(cls, path: str | Path) -> TemplateSet:
        """The templates of ``path``; TemplateInvalid listing every problem when any template is bad."""
        chains, problems = parse_file(Path(path))
        if problems:
            raise TemplateInvalid(" ".join(problems), param="templates_file")
        return cls(chains, str(path))

    @classmethod
    def default(cls) -> TemplateSet:
        """The templates shipped with restyle."""
        resource = resources.files("restyle").joinpath("data", DEFAULT_FILE)
        with resources.as_file(resource) as path:
            return cls.load(path)

    @classmethod
    def from_settings(cls, templates_file: str | Path | None) -> TemplateSet:
        """The configured file's templates, or the packaged defaults when none is configured."""
        return cls.load(templates_file) if templates_file else cls.default()

    def get(self, name: str) -> ActionChain:
        """The chain of template ``name``; UnknownTemplate when there is none."""
        chain = self._chains.get(name)
        if chain is None:
            names = sorted(self._chains)
            listed = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
            shown = name if len(name) <= 60 else name[:57] + "..."
            raise UnknownTemplate(
                f"Template '{shown}' does not exist; the templates are: {listed or 'none'}.", param="template"
            )
        return chain

    def __contains__(self, name: object) -> bool:
        return name in self._chains

    def items(self) -> list[tuple[str, ActionChain]]:
        return sorted(self._chains.items())

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._chains))

    def __len__(self) -> int:
        return len(self._chains)


def parse_file(path: Path) -> tuple[dict[str, ActionChain], list[str]]:
    """Every template of ``path`` that parses, and one sentence per problem (the file's or a template's)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"The templates file {path} cannot be read ({exc.__class__.__name__})."]
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        return {}, [
            f"The templates file {path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {first}."
        ]
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return {}, [f"The templates file {path} must map template names to action strings."]
    chains: dict[str, ActionChain] = {}
    problems: list[str] = []
    for name, actions in raw.items():
        if not isinstance(name, str) or not NAME.fullmatch(name):
            problems.append(
                f"Template name {name!r} in {path} must be 1-128 letters, digits, '.', '_', '~' or '-'."
            )
            continue
        if not isinstance(actions, str):
            problems.append(
                f"Template '{name}' in {path} must be an action string such as image/resize,w_100."
            )
            continue
        try:
            chains[name] = parse_actions(actions)
        except RestyleError as exc:
            problems.append(f"Template '{name}' in {path}: {exc.message}")
    return chains, problems
