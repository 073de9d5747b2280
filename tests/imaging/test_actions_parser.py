"""The action-string parser: strict on every input, canonical output that parses back to the same chain."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restyle.errors import ActionError, ActionOutOfRange, RestyleError, UnknownAction
from restyle.imaging.actions import ActionChain, action_names, parse_actions
from restyle.imaging.actions.params import encode_base64url

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# text made mostly of the language's own pieces, so that near-valid strings are common
PIECES = st.sampled_from(
    [
        "image/",
        "/",
        ",",
        "_",
        "resize",
        "w",
        "h",
        "m",
        "fill",
        "100",
        "-5",
        "0",
        "rotate",
        "90",
        "crop",
        "g",
        "se",
        "format",
        "png",
        "jpg",
        "quality",
        "q",
        "Q",
        "watermark",
        "text",
        "SGk",
        "==",
        "info",
        "circle",
        "r",
        "blur",
        "s",
        "flip",
        "both",
        "auto-orient",
        "1",
        "interlace",
        "p",
        "l",
        "limit",
        "color",
        "FF00ff",
        "indexcrop",
        "x",
        "i",
        "sharpen",
        "bright",
        "contrast",
        "rounded-corners",
        "t",
        "voffset",
        "image",
        "é",
        " ",
    ]
)
ACTION_TEXT = st.one_of(st.text(max_size=80), st.lists(PIECES, max_size=20).map("".join))


@FAST
@given(ACTION_TEXT)
def test_any_string_parses_or_raises_a_restyle_error(text: str) -> None:
    try:
        chain = parse_actions(text)
    except RestyleError as exc:
        assert exc.status == 400 and exc.code.startswith("action.")
        assert exc.message.endswith(".")
    else:
        assert isinstance(chain, ActionChain) and len(chain) >= 1


@FAST
@given(ACTION_TEXT)
def test_whatever_parses_round_trips_through_its_canonical_form(text: str) -> None:
    try:
        chain = parse_actions(text)
    except RestyleError:
        return
    assert parse_actions(str(chain)) == chain
    assert str(parse_actions(str(chain))) == str(chain)


def _resize() -> st.SearchStrategy[str]:
    sizes = st.dictionaries(st.sampled_from(["w", "h"]), st.integers(1, 16384), min_size=1)
    return st.tuples(sizes, st.sampled_from(["lfit", "mfit", "fill", "fixed"]), st.integers(0, 1)).map(
        lambda t: "resize," + ",".join([f"{k}_{v}" for k, v in t[0].items()] + [f"m_{t[1]}", f"limit_{t[2]}"])
    )


VALID_STEPS = st.one_of(
    _resize(),
    st.integers(0, 360).map(lambda a: f"rotate,{a}"),
    st.tuples(st.integers(1, 500), st.integers(1, 500), st.sampled_from(["nw", "center", "se"])).map(
        lambda t: f"crop,w_{t[0]},h_{t[1]},g_{t[2]}"
    ),
    st.integers(1, 4096).map(lambda r: f"circle,r_{r}"),
    st.tuples(st.integers(1, 50), st.integers(1, 50)).map(lambda t: f"blur,r_{t[0]},s_{t[1]}"),
    st.integers(-100, 100).map(lambda v: f"bright,{v}"),
    st.sampled_from(["h", "v", "both"]).map(lambda d: f"flip,{d}"),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x4E2D), min_size=1, max_size=20).map(
        lambda t: f"watermark,text_{encode_base64url(t)},g_nw,t_50"
    ),
)


@FAST
@given(st.lists(VALID_STEPS, min_size=1, max_size=6), st.sampled_from(["image/", ""]))
def test_valid_chains_parse_and_round_trip(steps: list[str], prefix: str) -> None:
    chain = parse_actions(prefix + "/".join(steps))
    assert len(chain) == len(steps)
    canonical = str(chain).removeprefix("image/").split("/")
    assert [set(step.split(",")) for step in canonical] == [set(step.split(",")) for step in steps]
    assert parse_actions(str(chain)) == chain


@pytest.mark.parametrize(
    ("text", "error", "words"),
    [
        ("", ActionError, "names no action"),
        ("image/", ActionError, "names no action"),
        ("image/resize,w_100/", ActionError, "Step 2"),
        ("image/zoom,2", UnknownAction, "zoom"),
        ("image/resize,w_100,q_5", UnknownAction, "'q_5'"),
        ("image/resize,w100", UnknownAction, "'w100'"),
        ("image/resize,w_100,w_200", ActionError, "given twice"),
        ("image/resize,w_0", ActionOutOfRange, "from 1 to 16384"),
        ("image/resize,w_abc", ActionError, "whole number"),
        ("image/resize,w_+5", ActionError, "whole number"),
        ("image/resize,m_lfit", ActionError, "at least one"),
        ("image/resize,p_50,w_10", ActionError, "not both"),
        ("image/resize,m_zoom,w_5", ActionError, "one of lfit"),
        ("image/resize,color_FF0000,w_5", ActionError, "m_pad"),
        ("image/rotate,361", ActionOutOfRange, "0 to 360"),
        ("image/rotate", ActionError, "at least one"),
        ("image/blur,r_3", ActionError, "'s'"),
        ("image/sharpen,49", ActionOutOfRange, "50 to 399"),
        ("image/format,tiff", ActionError, "jpg, jpeg, png"),
        ("image/format,png/format,jpg", ActionError, "only once"),
        ("image/quality,q_50,Q_50", ActionError, "not both"),
        ("image/info/resize,w_5", ActionError, "only action"),
        ("image/watermark,text_!!", ActionError, "base64"),
        ("image/watermark,text_SGk,image_SGk", ActionError, "not both"),
        ("image/watermark,type_" + encode_base64url("comic-sans") + ",text_SGk", ActionError, "comic-sans"),
        ("image/resize,w_5,color_GG0000,m_pad", ActionError, "hexadecimal"),
        ("image/" + "/".join(["flip,h"] * 40), ActionError, "limit is 32"),
        ("image/os:system", UnknownAction, "not known"),
    ],
)
def test_errors_name_the_action_and_parameter(text: str, error: type[RestyleError], words: str) -> None:
    with pytest.raises(error) as caught:
        parse_actions(text)
    assert words in caught.value.message
    assert caught.value.status == 400 and caught.value.param == "actions"


def test_error_codes_are_stable() -> None:
    codes = {}
    for text in ("image/zoom", "image/resize,w_0", "image/resize,w_x"):
        with pytest.raises(RestyleError) as caught:
            parse_actions(text)
        codes[text] = caught.value.code
    assert codes == {
        "image/zoom": "action.unknown",
        "image/resize,w_0": "action.out_of_range",
        "image/resize,w_x": "action.invalid",
    }


def test_prefix_is_optional_and_canonical_form_has_it() -> None:
    assert parse_actions("resize,w_100/rotate,90") == parse_actions("image/resize,w_100/rotate,90")
    assert str(parse_actions("rotate,90")) == "image/rotate,90"


def test_parameters_are_canonicalised_in_declared_order() -> None:
    chain = parse_actions("image/resize,h_10,w_20,m_pad,color_ff00aa/watermark,t_5,text_SGk=")
    assert str(chain) == "image/resize,m_pad,w_20,h_10,color_FF00AA/watermark,text_SGk,t_5"


def test_base64_values_may_contain_underscores() -> None:
    text = "??>>"  # base64url of this contains '_' and '-'
    encoded = encode_base64url(text)
    assert "_" in encoded or "-" in encoded
    [mark] = parse_actions(f"image/watermark,text_{encoded}").actions
    assert mark.value("text") == text


def test_every_builtin_is_listed_in_unknown_action_errors() -> None:
    with pytest.raises(UnknownAction) as caught:
        parse_actions("image/nope")
    assert all(name in caught.value.message for name in action_names())
