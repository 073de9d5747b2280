"""The strict parser of action strings: ``image/<action>,<k>_<v>,.../<action>...``.

Rules: the ``image/`` prefix of the OSS/TOS form is optional (``resize,w_100`` is the same chain);
segments are separated by ``/`` and may not be empty; the first item of a segment names the action,
the others are ``key_value`` pairs (the value may itself contain ``_``, as base64url does), or one
bare value for actions that take one (``rotate,90``). Unknown actions or keys, repeated keys,
repeated once-only actions, bad and out-of-range values are errors; nothing is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from restyle.errors import ActionError, RestyleError, UnknownAction
from restyle.imaging.actions.base import Action, action_class
from restyle.imaging.actions.params import PARAM, ParamValue

PREFIX = "image/"
MAX_CHARS = 4096
MAX_STEPS = 32


@dataclass(frozen=True)
class ActionChain:
    """A parsed, validated chain of actions; ``str()`` gives its canonical action string."""

    actions: tuple[Action, ...]

    def __str__(self) -> str:
        return PREFIX + "/".join(action.canonical() for action in self.actions)

    def __len__(self) -> int:
        return len(self.actions)

    def names(self) -> list[str]:
        return [action.name for action in self.actions]


def parse_actions(text: str) -> ActionChain:
    """``text`` as an ActionChain; any problem is a RestyleError (``action.*``) naming it."""
    if not isinstance(text, str):
        raise ActionError("The action string must be text such as image/resize,w_100.", param=PARAM)
    if len(text) > MAX_CHARS:
        raise ActionError(
            f"The action string is {len(text)} characters long; the limit is {MAX_CHARS}.", param=PARAM
        )
    body = text[len(PREFIX) :] if text.startswith(PREFIX) else text
    if not body:
        raise ActionError("The action string names no action; write e.g. image/resize,w_100.", param=PARAM)
    segments = body.split("/")
    if len(segments) > MAX_STEPS:
        raise ActionError(
            f"The action string has {len(segments)} steps; the limit is {MAX_STEPS}.", param=PARAM
        )
    actions = tuple(_parse_segment(segment, position) for position, segment in enumerate(segments, 1))
    _check_chain(actions)
    return ActionChain(actions)


def _parse_segment(segment: str, position: int) -> Action:
    if not segment:
        raise ActionError(
            f"Step {position} of the action string is empty; remove the extra '/'.", param=PARAM
        )
    name, *items = segment.split(",")
    cls = action_class(name)
    given: dict[str, ParamValue] = {}
    if cls.positional is not None and len(items) == 1 and "_" not in items[0] and items[0]:
        spec = cls.spec(cls.positional)
        assert spec is not None
        given[spec.name] = spec.convert(name, items[0])
        items = []
    for item in items:
        key, sep, raw = item.partition("_")
        spec = cls.spec(key) if sep else None
        if spec is None:
            known = ", ".join(p.name for p in cls.params) or "none"
            shown = item if len(item) <= 40 else item[:37] + "..."
            raise UnknownAction(
                f"Action '{name}' has no parameter '{shown}'; its parameters are: {known} "
                "(written key_value).",
                param=PARAM,
                details={"action": name, "parameter": key[:40]},
            )
        if key in given:
            raise ActionError(
                f"Action '{name}' parameter '{key}' is given twice; give it once.",
                param=PARAM,
                details={"action": name, "parameter": key},
            )
        given[key] = spec.convert(name, raw)
    try:
        return cls(given)
    except RestyleError:
        raise
    except Exception as exc:  # a plug-in's check() must never leak another exception type
        raise ActionError(f"Action '{name}' could not be set up: {exc}.", param=PARAM) from exc


def _check_chain(actions: tuple[Action, ...]) -> None:
    seen: set[str] = set()
    for action in actions:
        if action.once and action.name in seen:
            raise ActionError(
                f"Action '{action.name}' may appear only once in a chain.",
                param=PARAM,
                details={"action": action.name},
            )
        seen.add(action.name)
    if "info" in seen and len(actions) > 1:
        raise ActionError(
            "Action 'info' reports on the stored file and must be the only action.",
            param=PARAM,
            details={"action": "info"},
        )
