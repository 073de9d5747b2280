"""Validate caller parameters (form strings or typed JSON) into a :class:`GenerateRequest`.

Every front maps its wire names onto the native names below and calls
:func:`parse_generate_request`; each bad value raises an error naming the parameter and the limit.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from restyle.domain import GenerateRequest, ImageSource, OutputFormat, ReferenceMode, StylePreset
from restyle.errors import InvalidParameter, ParameterOutOfRange

MAX_PROMPT_CHARS = 1000
SEED_MAX = 2**32 - 1


@dataclass(frozen=True)
class NumberSpec:
    """Range (and optional step) of one numeric parameter; ``field`` is its GenerateRequest name."""

    field: str
    kind: type
    low: float
    high: float
    step: float | None = None


NUMBERS: dict[str, NumberSpec] = {
    "seed": NumberSpec("seed", int, -1, SEED_MAX),
    "steps": NumberSpec("steps", int, 1, 100),
    "cfg_scale": NumberSpec("cfg_scale", float, 1.0, 30.0),
    "strength": NumberSpec("strength", float, 0.0, 1.0),
    "width": NumberSpec("width", int, 64, 2048),
    "height": NumberSpec("height", int, 64, 2048),
    "hd": NumberSpec("hd_strength", float, 0.0, 1.0, 0.1),
    "beautify": NumberSpec("beautify_strength", float, 0.0, 1.0, 0.1),
    "smooth": NumberSpec("smooth_strength", float, 0.0, 1.0, 0.1),
    "min_identity": NumberSpec("min_identity", float, 0.05, 2.0),
    "output_quality": NumberSpec("output_quality", int, 1, 100),
}
SWITCHES = (
    "style_switch", "facestyle_switch", "face_switch", "hyper_switch", "allow_no_face",
    "label_metadata", "label_invisible", "label_c2pa",
)  # fmt: skip
TEXTS = ("prompt", "negative_prompt")
OTHER = ("style", "mode", "output_format", "image", "style_image", "logo_info")
KNOWN = set(NUMBERS) | set(SWITCHES) | set(TEXTS) | set(OTHER)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(name: str, value: Any) -> bool:
    """``true``/``false`` in any of the usual spellings, or a JSON bool."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str | int):
        raise InvalidParameter(f"Parameter '{name}' must be true or false.", param=name)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidParameter(f"Parameter '{name}' must be true or false, not '{value}'.", param=name)


def parse_number(name: str, value: Any, spec: NumberSpec) -> int | float:
    """A number within ``spec``'s range and step, from a string or a JSON number."""
    kind_word = "an integer" if spec.kind is int else "a number"
    if isinstance(value, bool):
        raise InvalidParameter(f"Parameter '{name}' must be {kind_word}, not a boolean.", param=name)
    if not isinstance(value, int | float | str) or (isinstance(value, str) and len(value) > 64):
        raise InvalidParameter(f"Parameter '{name}' must be {kind_word}.", param=name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameter(f"Parameter '{name}' must be {kind_word}, not '{value}'.", param=name) from None
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number):
        if isinstance(value, int) or str(value).strip().lstrip("+-").isdigit():
            raise ParameterOutOfRange(
                f"Parameter '{name}' must be between {_fmt(spec.low)} and {_fmt(spec.high)}.", param=name
            )
        raise InvalidParameter(f"Parameter '{name}' must be a finite number.", param=name)
    if spec.kind is int and not number.is_integer():
        raise InvalidParameter(f"Parameter '{name}' must be an integer, not '{value}'.", param=name)
    if not spec.low <= number <= spec.high:
        raise ParameterOutOfRange(
            f"Parameter '{name}' is {value}; it must be between {_fmt(spec.low)} and {_fmt(spec.high)}.",
            param=name,
        )
    if spec.step is not None and abs(number / spec.step - round(number / spec.step)) > 1e-6:
        raise ParameterOutOfRange(
            f"Parameter '{name}' is {value}; it must be a multiple of {spec.step} between "
            f"{_fmt(spec.low)} and {_fmt(spec.high)}.",
            param=name,
        )
    if spec.kind is int:
        return int(number)
    return round(number, 6)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _choice(name: str, value: Any, choices: list[str]) -> str:
    if not isinstance(value, str):
        raise InvalidParameter(f"Parameter '{name}' must be one of: {', '.join(choices)}.", param=name)
    text = value.strip().lower()
    if text == "jpg":
        text = "jpeg"
    if text not in choices:
        raise InvalidParameter(
            f"Parameter '{name}' has unknown value '{value}'; choose one of: {', '.join(choices)}.", param=name
        )
    return text


def parse_logo_info(value: Any) -> dict[str, Any]:
    """The visible-label object (``logo_info``: add_logo, position, language, opacity), from a JSON object or
    its text (multipart forms), checked field by field."""
    from restyle.labels.spec import VisibleLabel

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidParameter(
                'Parameter \'logo_info\' must be a JSON object such as {"add_logo": true, "position": 0}.',
                param="logo_info",
            ) from None
    if not isinstance(value, dict):
        raise InvalidParameter(
            'Parameter \'logo_info\' must be an object such as {"add_logo": true, "position": 0}.',
            param="logo_info",
        )
    VisibleLabel.from_logo_info(value)  # raises naming the bad field
    return dict(value)


def parse_generate_request(
    fields: Mapping[str, Any],
    *,
    image: ImageSource,
    style_image: ImageSource | None = None,
    resolve_style: Callable[[str | int], StylePreset] | None = None,
    strict: bool = True,
) -> GenerateRequest:
    """Validate ``fields`` (native names) into a GenerateRequest.

    With ``strict`` an unknown field name is an error (typos should not pass silently).
    """
    values: dict[str, Any] = {}
    for name, raw in fields.items():
        if raw is None or (isinstance(raw, str) and raw == "" and name not in TEXTS):
            continue
        if name in NUMBERS:
            spec = NUMBERS[name]
            values[spec.field] = parse_number(name, raw, spec)
        elif name in SWITCHES:
            values[name] = parse_bool(name, raw)
        elif name in TEXTS:
            if not isinstance(raw, str):
                raise InvalidParameter(f"Parameter '{name}' must be a string.", param=name)
            text = raw
            if len(text) > MAX_PROMPT_CHARS:
                raise ParameterOutOfRange(
                    f"Parameter '{name}' has {len(text)} characters; the limit is {MAX_PROMPT_CHARS}.",
                    param=name,
                )
            values[name] = text
        elif name == "style":
            if isinstance(raw, bool) or not isinstance(raw, int | str):
                raise InvalidParameter(
                    "Parameter 'style' must be a preset name or index (see 'restyle styles' or GET /v1/styles).",
                    param="style",
                )
            values["style"] = str(raw) if resolve_style is None else resolve_style(raw).name
        elif name == "mode":
            values["mode"] = ReferenceMode(_choice(name, raw, [m.value for m in ReferenceMode]))
        elif name == "output_format":
            values["output_format"] = OutputFormat(_choice(name, raw, [f.value for f in OutputFormat]))
        elif name == "logo_info":
            values["logo_info"] = parse_logo_info(raw)
        elif name in ("image", "style_image"):
            continue
        elif strict:
            raise InvalidParameter(
                f"Parameter '{name}' is not known; the parameters are: {', '.join(sorted(KNOWN))}.",
                param=name,
            )
    return GenerateRequest(image=image, style_image=style_image, **values)


def request_to_params(request: GenerateRequest) -> dict[str, Any]:
    """The request's parameters as native names and JSON values (inputs excluded)."""
    field_to_name = {spec.field: name for name, spec in NUMBERS.items()}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(request):
        if f.name in ("image", "style_image", "extra", "front"):  # the front lives on the task row
            continue
        value = getattr(request, f.name)
        if value is None:
            continue
        if isinstance(value, ReferenceMode | OutputFormat):
            value = value.value
        out[field_to_name.get(f.name, f.name)] = value
    return out


def request_from_params(
    params: Mapping[str, Any], image: ImageSource, style_image: ImageSource | None = None
) -> GenerateRequest:
    """Inverse of :func:`request_to_params` (values were validated when first parsed)."""
    return parse_generate_request(params, image=image, style_image=style_image)
