"""Parameter specifications of processing actions: how a raw ``k_v`` value is checked and converted."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Literal

from restyle.errors import ActionError, ActionOutOfRange

ParamValue = int | str
ParamKind = Literal["int", "choice", "colour", "base64"]

_INT = re.compile(r"-?[0-9]{1,7}")
_COLOUR = re.compile(r"[0-9A-Fa-f]{6}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
PARAM = "actions"  # the request field every action error points at


@dataclass(frozen=True)
class Param:
    """One parameter of an action: its kind, range or choices, and its default (None: none)."""

    name: str
    kind: ParamKind = "int"
    low: int = 0
    high: int = 0
    choices: tuple[str, ...] = ()
    default: ParamValue | None = None
    max_chars: int = 256  # decoded text of a base64 parameter

    def convert(self, action: str, raw: str) -> ParamValue:
        """``raw`` as this parameter's value, or an ActionError naming the action and the parameter."""
        if self.kind == "int":
            return self._int(action, raw)
        if self.kind == "choice":
            if raw not in self.choices:
                raise ActionError(
                    f"Action '{action}' parameter '{self.name}' is '{_show(raw)}'; it must be one of "
                    f"{', '.join(self.choices)}.",
                    param=PARAM,
                    details={"action": action, "parameter": self.name},
                )
            return raw
        if self.kind == "colour":
            if not _COLOUR.fullmatch(raw):
                raise ActionError(
                    f"Action '{action}' parameter '{self.name}' is '{_show(raw)}'; it must be a six-digit "
                    "hexadecimal RGB colour such as FF0000.",
                    param=PARAM,
                    details={"action": action, "parameter": self.name},
                )
            return raw.upper()
        return self._base64(action, raw)

    def _int(self, action: str, raw: str) -> int:
        if not _INT.fullmatch(raw):
            raise ActionError(
                f"Action '{action}' parameter '{self.name}' is '{_show(raw)}'; it must be a whole number "
                f"from {self.low} to {self.high}.",
                param=PARAM,
                details={"action": action, "parameter": self.name},
            )
        value = int(raw)
        if not self.low <= value <= self.high:
            raise ActionOutOfRange(
                f"Action '{action}' parameter '{self.name}' is {value}; it must be from {self.low} to "
                f"{self.high}.",
                param=PARAM,
                details={"action": action, "parameter": self.name},
            )
        return value

    def _base64(self, action: str, raw: str) -> str:
        try:
            if not _BASE64URL.fullmatch(raw):
                raise ValueError(raw)
            text = base64.urlsafe_b64decode(raw.rstrip("=") + "=" * (-len(raw.rstrip("=")) % 4)).decode(
                "utf-8"
            )
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ActionError(
                f"Action '{action}' parameter '{self.name}' is not URL-safe base64 of UTF-8 text; encode it "
                "with base64url (- and _ instead of + and /, padding optional).",
                param=PARAM,
                details={"action": action, "parameter": self.name},
            ) from None
        if not text or len(text) > self.max_chars or any(ord(ch) < 32 for ch in text):
            raise ActionOutOfRange(
                f"Action '{action}' parameter '{self.name}' decodes to {len(text)} characters; it must be 1 to "
                f"{self.max_chars} printable characters.",
                param=PARAM,
                details={"action": action, "parameter": self.name},
            )
        return text


def encode_base64url(text: str) -> str:
    """``text`` as unpadded URL-safe base64, the form action strings carry names and texts in."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def integer(name: str, low: int, high: int, default: int | None = None) -> Param:
    return Param(name, "int", low, high, default=default)


def choice(name: str, *choices: str, default: str | None = None) -> Param:
    return Param(name, "choice", choices=choices, default=default)


def colour(name: str, default: str) -> Param:
    return Param(name, "colour", default=default)


def text64(name: str, max_chars: int = 256) -> Param:
    return Param(name, "base64", max_chars=max_chars)


def _show(raw: str) -> str:
    """A raw value, shortened for an error message."""
    return raw if len(raw) <= 40 else raw[:37] + "..."
