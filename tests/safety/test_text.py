"""Prompt checks: normalisation, whole words versus substrings, general versus IP lists, list files."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restyle.errors import ConfigurationError, InputTextProtectedName, InputTextUnsafe
from restyle.safety import SafetyPolicy, check_text, scan_text
from restyle.safety.normalize import normalize
from restyle.safety.text import compile_blocklist, trie_pattern

POLICY = SafetyPolicy()


def kind_of(text: str, policy: SafetyPolicy = POLICY) -> str | None:
    return scan_text(text, policy).kind


@pytest.fixture
def ass_policy(tmp_path: Path) -> SafetyPolicy:
    (tmp_path / "rude.txt").write_text("ass\n", encoding="utf-8")
    return SafetyPolicy(general_blocklists=(str(tmp_path / "rude.txt"),), ip_blocklists=())


@pytest.mark.parametrize(
    "prompt",
    [
        "a watercolor portrait of a smiling woman, soft light, 4k, 3d render",
        "古风人像，水墨画风格，柔和的光线",
        "Sussex countryside, Essex coast, a sextant on the desk",
        "a classic passport photo in a glass frame",
        "nude-toned lipstick, looking at the stars with the naked eye",
    ],
)
def test_ordinary_prompts_pass(prompt: str) -> None:
    assert scan_text(prompt, POLICY).allowed


@pytest.mark.parametrize(
    "prompt",
    [
        "PORN", "Porn style", "ｐｏｒｎ", "ＰＯＲＮ", "p o r n", "p.o.r.n", "p-o-r-n!", "po.rn", "p_o_r_n",
        "po\u200brn", "p\u00adorn", "p\u200do\u2060r\ufeffn", "p\u0332o\u0332r\u0332n\u0332", "pórn", "p0rn",
        "$3x", "s3x", "a sex scene", "SEX-SCENE", "nsfw!!", "naked   body",
    ],
)
def test_english_terms_after_normalisation(prompt: str) -> None:
    assert kind_of(prompt) == "general"


@pytest.mark.parametrize(
    "prompt", ["色情", "一幅色情画", "色 情", "色·情", "色，情", "色\u200b情", "裸體", "淫穢圖片", "血腥", "斩 首"]
)
def test_chinese_terms_after_normalisation(prompt: str) -> None:
    assert kind_of(prompt) == "general"


def test_english_terms_match_whole_words_only(ass_policy: SafetyPolicy) -> None:
    for fine in ("class photo", "bass guitar", "a passage", "assassin's creed", "glass"):
        assert scan_text(fine, ass_policy).allowed, fine
    for rude in ("ass", "an ass", "kick-ass", "ASS!", "a s s", "a.s.s", "大ass", "@ss"):
        assert not scan_text(rude, ass_policy).allowed, rude


def test_leetspeak_can_be_turned_off() -> None:
    plain = SafetyPolicy(leetspeak=False)
    assert scan_text("p0rn", plain).allowed and not scan_text("porn", plain).allowed


@pytest.mark.parametrize(
    "prompt",
    ["Pikachu", "PIKACHU!", "皮卡丘", "Spider-Man", "spiderman", "spider man",
     "蜘蛛俠", "哈利波特", "哈利·波特", "Harry Potter", "可口可樂", "Coca Cola", "cocacola", "哆啦A梦",
     "Ｍｉｃｋｅｙ Ｍｏｕｓｅ", "a Gucci bag"],
)
def test_names_brands_and_ip_use_their_own_list(prompt: str) -> None:
    assert kind_of(prompt) == "ip"


def test_general_lists_are_checked_before_ip_lists() -> None:
    assert kind_of("Pikachu porn") == "general"


def test_errors_name_the_list_and_never_the_term(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="restyle.safety.text"), pytest.raises(InputTextUnsafe) as caught:
        check_text("a p.o.r.n poster", POLICY)
    error = caught.value
    assert (error.code, error.status, error.param) == ("safety.input_text", 422, "prompt")
    assert error.details == {"stage": "input", "list": "general", "kind": "general"}
    assert "general" in error.message and "porn" not in error.message.lower()
    assert any("porn" in record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG)
    with pytest.raises(InputTextProtectedName) as ip:
        check_text("Pikachu", POLICY, param="negative_prompt")
    assert ip.value.code == "safety.input_text_ip" and ip.value.param == "negative_prompt"
    assert "pikachu" not in ip.value.message.lower() and "'ip'" in ip.value.message
    assert not isinstance(ip.value, InputTextUnsafe)


def test_text_checks_can_be_switched_off() -> None:
    for policy in (SafetyPolicy(enabled=False), SafetyPolicy(text=False),
                   SafetyPolicy(general_blocklists=(), ip_blocklists=())):
        assert check_text("porn Pikachu", policy).allowed
    assert check_text("", POLICY).allowed


def test_list_files_comments_bom_and_names(tmp_path: Path) -> None:
    words = tmp_path / "house_rules.txt"
    words.write_text("\ufeff# our words\n\nsecret project  # inline comment\n# ignored\n秘密计划\n", encoding="utf-8")
    policy = SafetyPolicy(general_blocklists=("default", str(words)), ip_blocklists=())
    verdict = scan_text("the Secret-Project look", policy)
    assert (verdict.allowed, verdict.list_name, verdict.kind) == (False, "house_rules", "general")
    assert scan_text("秘密 計劃", policy).list_name == "house_rules"
    assert scan_text("our words", policy).allowed and scan_text("ignored", policy).allowed
    assert scan_text("porn", policy).list_name == "general"


def test_an_edited_list_is_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "brands.txt"
    path.write_text("acme\n", encoding="utf-8")
    policy = SafetyPolicy(general_blocklists=(), ip_blocklists=(str(path),))
    assert kind_of("Acme shoes", policy) == "ip" and kind_of("Globex", policy) is None
    path.write_text("acme\nglobex corp\n", encoding="utf-8")
    os.utime(path, ns=(1, 10**9 * 2_000_000_000))
    assert kind_of("Globex Corp shoes", policy) == "ip"


def test_a_missing_list_file_names_the_setting(tmp_path: Path) -> None:
    policy = SafetyPolicy(ip_blocklists=(str(tmp_path / "nope.txt"),))
    with pytest.raises(ConfigurationError) as caught:
        scan_text("hello", policy)
    assert "ip_blocklists" in caught.value.message and "nope.txt" in caught.value.message


def test_normalised_views() -> None:
    text = normalize("Ｓ．Ｅ．Ｘ and red,ass 裸　體 s3x")
    assert text.words.splitlines() == [
        "sex and red ass s3x",  # punctuation breaks words, one-letter runs are joined
        "sex and redass s3x",  # punctuation removed inside words
        "sex and red ass sex",  # the same two read as leetspeak
        "sex and redass sex",
    ]
    assert text.compact == "sexandredass裸体s3x"
    assert normalize("s3x", leetspeak=False).words == "s3x"


@given(
    terms=st.lists(st.text(alphabet="abc", min_size=1, max_size=4), min_size=1, max_size=8),
    text=st.text(alphabet="abcd", max_size=30),
)
def test_trie_pattern_finds_exactly_the_terms(terms: list[str], text: str) -> None:
    pattern = re.compile(trie_pattern(sorted(set(terms))))
    assert bool(pattern.search(text)) == any(term in text for term in terms)
    assert all(pattern.fullmatch(term) for term in terms)


def test_compile_blocklist_counts_terms() -> None:
    blocklist = compile_blocklist("x", "ip", ["Spider-Man", "蜘蛛侠", "# c", ""])
    assert blocklist.size == 3  # "spider man", "spiderman" and the Chinese term
    assert blocklist.find(normalize("SPIDER MAN")) == "spider man"
