from __future__ import annotations

import pytest

from restyle.domain import ImageSource, ReferenceMode
from restyle.engines.classic.presets import find_preset
from restyle.errors import InvalidParameter, ParameterOutOfRange, UnknownStyle
from restyle.requests import parse_generate_request, request_from_params, request_to_params

IMAGE = ImageSource(data=b"x")


def parse(**fields: object):  # type: ignore[no-untyped-def]
    return parse_generate_request(fields, image=IMAGE, resolve_style=find_preset)


def test_form_strings_are_typed() -> None:
    req = parse(style="2", seed="7", hd="0.5", style_switch="false", width="512", mode="reference_char")
    assert req.style == "anime" and req.seed == 7 and req.hd_strength == 0.5
    assert req.style_switch is False and req.width == 512 and req.mode is ReferenceMode.REFERENCE_CHAR


def test_round_trip_through_params() -> None:
    req = parse(style="国画古风", prompt="warm ink", seed=3, smooth=0.2)
    assert request_from_params(request_to_params(req), IMAGE) == req


def test_mode_defaults_follow_the_prompt() -> None:
    assert parse().effective_mode is ReferenceMode.REFERENCE
    assert parse(prompt="anime girl").effective_mode is ReferenceMode.CREATIVE


@pytest.mark.parametrize(
    ("fields", "error", "words"),
    [
        ({"hd": "1.5"}, ParameterOutOfRange, ["'hd'", "between 0 and 1"]),
        ({"beautify": "0.25"}, ParameterOutOfRange, ["'beautify'", "multiple of 0.1"]),
        ({"smooth": "-0.1"}, ParameterOutOfRange, ["'smooth'"]),
        ({"seed": "abc"}, InvalidParameter, ["'seed'", "integer"]),
        ({"seed": "-5"}, ParameterOutOfRange, ["'seed'", "-1"]),
        ({"width": "5000"}, ParameterOutOfRange, ["'width'", "2048"]),
        ({"strength": "nan"}, InvalidParameter, ["'strength'", "finite"]),
        ({"style_switch": "maybe"}, InvalidParameter, ["'style_switch'", "true or false"]),
        ({"mode": "wild"}, InvalidParameter, ["'mode'", "reference_char"]),
        ({"style": "vaporwave"}, UnknownStyle, ["'style'", "anime"]),
        ({"style": "42"}, UnknownStyle, ["index 42", "0 to 9"]),
        ({"prompt": "x" * 1001}, ParameterOutOfRange, ["'prompt'", "1000"]),
        ({"colour": "red"}, InvalidParameter, ["'colour'", "not known"]),
    ],
)
def test_bad_values_name_the_parameter_and_limit(fields: dict[str, str], error: type, words: list[str]) -> None:
    with pytest.raises(error) as err:
        parse(**fields)
    for word in words:
        assert word in err.value.message
    assert err.value.status == 400
