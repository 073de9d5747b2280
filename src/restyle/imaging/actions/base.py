"""The processing-action plug-in kind: the Action base class and the registry of built-in actions.

An action is one step of ``image/<action>,<k>_<v>,...``. Each built-in lives in its own module and
is imported when first named; ``register()`` adds an action of your own under a new name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import ClassVar

from restyle.errors import ActionError, UnknownAction
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import PARAM, Param, ParamValue


class Action:
    """Base of every processing action.

    Subclasses set ``name`` and ``params`` (in canonical order), optionally ``positional`` (the
    parameter a bare value such as ``rotate,90`` sets), ``once`` (may appear once in a chain) and
    ``required`` (groups of which at least one must be given), then implement ``output_size`` (used
    to bound pixels before anything is allocated) and ``apply``. ``check`` validates combinations.
    """

    name: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    positional: ClassVar[str | None] = None
    once: ClassVar[bool] = False
    required: ClassVar[tuple[str, ...]] = ()  # at least one of these must be given

    def __init__(self, given: Mapping[str, ParamValue]) -> None:
        self.given: dict[str, ParamValue] = dict(given)
        if self.required and not any(name in self.given for name in self.required):
            raise ActionError(
                f"Action '{self.name}' needs at least one of the parameters {', '.join(self.required)}.",
                param=PARAM,
                details={"action": self.name},
            )
        self.check()

    @classmethod
    def spec(cls, key: str) -> Param | None:
        for param in cls.params:
            if param.name == key:
                return param
        return None

    def value(self, key: str) -> ParamValue | None:
        """The given value of ``key``, else its default."""
        if key in self.given:
            return self.given[key]
        param = self.spec(key)
        return None if param is None else param.default

    def int_value(self, key: str) -> int:
        value = self.value(key)
        assert isinstance(value, int), f"{self.name}.{key} is not an integer parameter"
        return value

    def str_value(self, key: str) -> str:
        value = self.value(key)
        assert isinstance(value, str), f"{self.name}.{key} is not a text parameter"
        return value

    def check(self) -> None:
        """Reject parameter combinations that make no sense (an ActionError naming them)."""

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The size this step produces from ``width`` x ``height`` (the default keeps it)."""
        return width, height

    def apply(self, canvas: Canvas) -> Canvas:
        """Run the step; may replace ``canvas.pixels`` or change the output settings."""
        raise NotImplementedError

    def fail(self, message: str, key: str | None = None) -> ActionError:
        """An ActionError for this action (and parameter), to raise."""
        details: dict[str, object] = {"action": self.name}
        if key is not None:
            details["parameter"] = key
        return ActionError(message, param=PARAM, details=details)

    def canonical(self) -> str:
        """``name,k_v,...`` with parameters in declared order; parses back to an equal action."""
        parts = [self.name]
        for param in self.params:
            if param.name not in self.given:
                continue
            value = self.given[param.name]
            text = _encode(param, value)
            parts.append(text if param.name == self.positional else f"{param.name}_{text}")
        return ",".join(parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Action) and (self.name, self.given) == (other.name, other.given)

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.given.items()))))

    def __repr__(self) -> str:
        return f"<action {self.canonical()}>"


def _encode(param: Param, value: ParamValue) -> str:
    if param.kind == "base64":
        from restyle.imaging.actions.params import encode_base64url

        return encode_base64url(str(value))
    return str(value)


BUILTIN_ACTIONS: dict[str, str] = {
    "resize": "restyle.imaging.actions.resize:Resize",
    "crop": "restyle.imaging.actions.crop:Crop",
    "indexcrop": "restyle.imaging.actions.indexcrop:IndexCrop",
    "circle": "restyle.imaging.actions.circle:Circle",
    "rounded-corners": "restyle.imaging.actions.rounded_corners:RoundedCorners",
    "rotate": "restyle.imaging.actions.rotate:Rotate",
    "auto-orient": "restyle.imaging.actions.auto_orient:AutoOrient",
    "flip": "restyle.imaging.actions.flip:Flip",
    "blur": "restyle.imaging.actions.blur:Blur",
    "sharpen": "restyle.imaging.actions.sharpen:Sharpen",
    "bright": "restyle.imaging.actions.bright:Bright",
    "contrast": "restyle.imaging.actions.contrast:Contrast",
    "format": "restyle.imaging.actions.format:Format",
    "quality": "restyle.imaging.actions.quality:Quality",
    "interlace": "restyle.imaging.actions.interlace:Interlace",
    "watermark": "restyle.imaging.actions.watermark:Watermark",
    "info": "restyle.imaging.actions.info:Info",
}
_loaded: dict[str, type[Action]] = {}


def register(action: type[Action]) -> None:
    """Make ``action`` available under ``action.name`` (replacing a built-in of that name)."""
    if not action.name:
        raise ValueError("An action class needs a non-empty 'name'.")
    _loaded[action.name] = action


def action_names() -> list[str]:
    return sorted(set(BUILTIN_ACTIONS) | set(_loaded))


def action_class(name: str) -> type[Action]:
    """The class of action ``name``; UnknownAction for any name not registered (never an import path)."""
    if name in _loaded:
        return _loaded[name]
    path = BUILTIN_ACTIONS.get(name)
    if path is None:
        shown = name if len(name) <= 40 else name[:37] + "..."
        raise UnknownAction(
            f"Action '{shown}' is not known; use one of: {', '.join(action_names())}.",
            param=PARAM,
            details={"action": shown},
        )
    module_name, _, attr = path.partition(":")
    cls: type[Action] = getattr(importlib.import_module(module_name), attr)
    _loaded[name] = cls
    return cls
