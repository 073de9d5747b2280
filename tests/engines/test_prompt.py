"""Prompt vocabulary: English and Chinese parsing, used / ignored words, the modifier grade."""

from __future__ import annotations

import numpy as np
import pytest

from restyle.engines.classic.prompt import (
    MODIFIER_WORDS,
    STYLE_WORDS,
    apply_modifiers,
    parse_prompt,
    tokenize,
)
from restyle.engines.classic.renderers import RENDERERS


def test_english_style_phrase_and_modifiers() -> None:
    parsed = parse_prompt("A very warm oil painting of a man with a hat")
    assert parsed.style == "oil_painting"
    assert parsed.modifiers == {"warm": 1.5}
    assert parsed.used == ["very", "warm", "oil painting"]
    assert parsed.ignored == ["man", "hat"]


def test_multi_word_phrases_win_over_single_words() -> None:
    assert tokenize("Chinese New Year, black and white") == ["chinese new year", "black and white"]
    parsed = parse_prompt("new year")
    assert parsed.style == "new_year" and parsed.used == ["new year"]


def test_chinese_longest_match_and_stop_words() -> None:
    parsed = parse_prompt("把照片变成二次元风格，暖色调")
    assert parsed.style == "anime"
    assert parsed.modifiers == {"warm": 1.0}
    assert parsed.used == ["二次元", "暖色"]
    assert parsed.ignored == []
    # 赛博朋克 is one entry, not 赛博 + 朋克
    assert parse_prompt("赛博朋克").used == ["赛博朋克"]


def test_unknown_chinese_runs_are_ignored_as_one_word() -> None:
    parsed = parse_prompt("新年快乐")
    assert parsed.style == "new_year"
    assert parsed.ignored == ["快乐"]


def test_mixed_languages_and_intensifiers() -> None:
    parsed = parse_prompt("3D童话 稍微暗 vivid")
    assert parsed.style == "fairy_tale_3d"
    assert parsed.modifiers == {"dark": 0.5, "vivid": 1.0}
    assert parsed.used == ["3d", "童话", "稍微", "暗", "vivid"]


def test_weak_style_words_yield_to_others() -> None:
    prompt = parse_prompt("portrait of a woman in anime style")
    assert prompt.style == "anime"
    assert "anime" in prompt.used and "portrait" in prompt.ignored and "portrait" not in prompt.used
    assert parse_prompt("studio portrait").style == "portrait"


def test_a_second_style_word_or_the_request_overrides_and_is_reported_ignored() -> None:
    prompt = parse_prompt("watercolor sketch, warm")
    assert prompt.style == "watercolor" and prompt.used == ["watercolor", "warm"] and prompt.ignored == ["sketch"]
    prompt.overridden("anime")  # the request asked for anime: no prompt style word was used
    assert prompt.used == ["warm"] and set(prompt.ignored) == {"sketch", "watercolor"}


def test_unknown_words_and_dangling_intensifier() -> None:
    parsed = parse_prompt("the quick fox, extremely")
    assert parsed.style is None and parsed.modifiers == {}
    assert parsed.ignored == ["quick", "fox", "extremely"]
    assert parse_prompt("").used == [] and parse_prompt("").ignored == []


def test_modifier_amounts_are_capped() -> None:
    assert parse_prompt("warm warm warm very warm").modifiers["warm"] == 2.0


def test_vocabulary_points_at_real_presets_and_modifiers() -> None:
    assert set(STYLE_WORDS.values()) <= set(RENDERERS)
    known = {"warm", "cool", "pastel", "dark", "bright", "vivid", "muted", "soft", "sharp", "vintage", "golden",
             "mono", "contrast", "dreamy", "cinematic"}
    assert {name for amounts in MODIFIER_WORDS.values() for name in amounts} <= known


def _image() -> np.ndarray:
    ramp = np.linspace(30, 220, 64, dtype=np.float32)
    img = np.stack([np.tile(ramp, (64, 1)), np.tile(ramp[:, None], (1, 64)), np.full((64, 64), 120.0)], -1)
    return img.astype(np.uint8)


def test_apply_modifiers_grades() -> None:
    img = _image()
    assert apply_modifiers(img, {}) is img
    warm = apply_modifiers(img, {"warm": 1.0}).astype(np.float32)
    base = img.astype(np.float32)
    assert (warm[..., 0] - warm[..., 2]).mean() > (base[..., 0] - base[..., 2]).mean() + 5
    mono = apply_modifiers(img, {"mono": 1.0}).astype(np.int16)
    assert np.abs(mono[..., 0] - mono[..., 2]).max() <= 2
    assert apply_modifiers(img, {"dark": 1.0}).mean() < img.mean() - 10
    assert apply_modifiers(img, {"bright": 1.0}).mean() > img.mean() + 10


@pytest.mark.parametrize("name", ["vivid", "muted", "pastel", "soft", "sharp", "vintage", "golden", "contrast",
                                  "dreamy", "cinematic", "cool"])
def test_every_modifier_changes_the_image(name: str) -> None:
    img = _image()
    out = apply_modifiers(img, {name: 1.0})
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.abs(out.astype(np.int16) - img).mean() > 1.0
