"""Prompt checks against blocklist files: general unsafe text and protected names, brands and IP.

A list file holds one term per line (UTF-8, ``#`` starts a comment). Terms and prompts go through
the same normalisation (``restyle.safety.normalize``). A term of Latin letters matches whole words
("sex" hits "Sex!" and "s e x" but not "Sussex"); any other term (Chinese) matches as a substring
once spaces and punctuation are removed. Each list compiles to two regular expressions shaped as
tries (one for word terms, one for substring terms), built once per file version.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from restyle.errors import ConfigurationError, InputTextProtectedName, InputTextUnsafe, SafetyRefused
from restyle.safety.normalize import LATIN_CHARS, NormalizedText, compact, fold, latin_words, normalize
from restyle.safety.policy import SafetyPolicy

log = logging.getLogger(__name__)

BlocklistKind = Literal["general", "ip"]
BLOCKLIST_DIR = Path(__file__).resolve().parent.parent / "data" / "blocklists"
_ONLY_LATIN = re.compile(f"[{LATIN_CHARS}\\W_]+")
MAX_TERM_CHARS = 200


@dataclass(frozen=True)
class Blocklist:
    """One compiled list: its public name (the file's stem), its kind and its term count."""

    name: str
    kind: BlocklistKind
    size: int
    word_pattern: re.Pattern[str] | None
    substring_pattern: re.Pattern[str] | None

    def find(self, text: NormalizedText) -> str | None:
        """The first term of this list found in ``text`` (normalised), or None."""
        for pattern, haystack in ((self.word_pattern, text.words), (self.substring_pattern, text.compact)):
            if pattern is not None:
                match = pattern.search(haystack)
                if match:
                    return match.group(0)
        return None


@dataclass(frozen=True)
class TextVerdict:
    """The outcome of a prompt check: allowed, or the kind and name of the list that matched."""

    allowed: bool
    kind: BlocklistKind | None = None
    list_name: str | None = None

    def error(self, param: str = "prompt") -> SafetyRefused | None:
        """The error this verdict stands for (``safety.input_text`` / ``safety.input_text_ip``), if any."""
        if self.allowed:
            return None
        details: dict[str, Any] = {"stage": "input", "list": self.list_name, "kind": self.kind}
        if self.kind == "ip":
            return InputTextProtectedName(
                f"The {param} was refused by the content safety check: it names a person, brand or "
                f"character on the protected-names list '{self.list_name}'; remove the name and try again.",
                param=param, details=details,
            )
        return InputTextUnsafe(
            f"The {param} was refused by the content safety check: it contains a term of the "
            f"blocklist '{self.list_name}'; rephrase it and try again.",
            param=param, details=details,
        )


def trie_pattern(terms: list[str]) -> str:
    """A regular expression matching any of ``terms``, shaped as a trie (shared prefixes tried once)."""
    root: dict[str, Any] = {}
    for term in terms:
        node = root
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}  # end of a term

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:  # a longer term is tried first, the shorter one on backtracking
            return f"(?:{body})?"
        return body

    return build(root)


def parse_terms(lines: list[str]) -> tuple[set[str], set[str]]:
    """The normalised word terms and substring terms of a list file's lines."""
    words: set[str] = set()
    substrings: set[str] = set()
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line or len(line) > MAX_TERM_CHARS:
            continue
        folded = fold(line)
        if _ONLY_LATIN.fullmatch(folded):
            parts = latin_words(folded)
            if parts:
                words.add(" ".join(parts))
                words.add("".join(parts))  # "spider-man" also as "spiderman"
        elif term := compact(folded):
            substrings.add(term)
    return words, substrings


def compile_blocklist(name: str, kind: BlocklistKind, lines: list[str]) -> Blocklist:
    """A Blocklist from the lines of a list file."""
    words, substrings = parse_terms(lines)
    word_pattern = None
    if words:
        body = trie_pattern(sorted(words))
        word_pattern = re.compile(f"(?<![{LATIN_CHARS}])(?:{body})(?![{LATIN_CHARS}])")
    substring_pattern = re.compile(trie_pattern(sorted(substrings))) if substrings else None
    return Blocklist(name, kind, len(words | substrings), word_pattern, substring_pattern)


@functools.lru_cache(maxsize=64)
def _load(path: str, kind: BlocklistKind, name: str, version: tuple[int, int]) -> Blocklist:
    text = Path(path).read_text(encoding="utf-8-sig")
    blocklist = compile_blocklist(name, kind, text.splitlines())
    log.info("loaded %s blocklist %s: %d terms from %s", kind, name, blocklist.size, path)
    return blocklist


def load_blocklist(entry: str, kind: BlocklistKind) -> Blocklist:
    """The compiled list named by a settings entry: a file path or ``default`` (the shipped list).

    Compiled once per file version (path, modification time and size), so an edited file is reloaded.
    """
    path = BLOCKLIST_DIR / f"{kind}.txt" if entry == "default" else Path(entry).expanduser()
    try:
        stat = path.stat()
        return _load(str(path), kind, path.stem, (stat.st_mtime_ns, stat.st_size))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"The {kind} blocklist {path} named in the safety setting {kind}_blocklists cannot be read "
            f"as UTF-8 text ({exc.__class__.__name__}); fix the path or the file.",
            param=f"safety.{kind}_blocklists",
        ) from None


def policy_blocklists(policy: SafetyPolicy) -> list[Blocklist]:
    """The policy's lists in checking order: general lists first, then names, brands and IP."""
    lists = [load_blocklist(entry, "general") for entry in policy.general_blocklists]
    return lists + [load_blocklist(entry, "ip") for entry in policy.ip_blocklists]


def scan_text(text: str, policy: SafetyPolicy) -> TextVerdict:
    """The verdict of the policy's blocklists on ``text`` (the matched term is logged at debug level)."""
    if not policy.checks_text() or not text:
        return TextVerdict(allowed=True)
    normalized = normalize(text, leetspeak=policy.leetspeak)
    for blocklist in policy_blocklists(policy):
        term = blocklist.find(normalized)
        if term is not None:
            log.debug("text matched the term %r of the %s blocklist %s", term, blocklist.kind, blocklist.name)
            return TextVerdict(allowed=False, kind=blocklist.kind, list_name=blocklist.name)
    return TextVerdict(allowed=True)


def check_text(text: str, policy: SafetyPolicy, *, param: str = "prompt") -> TextVerdict:
    """Check ``text`` under ``policy``; raise ``safety.input_text`` or ``safety.input_text_ip``."""
    verdict = scan_text(text, policy)
    error = verdict.error(param)
    if error is not None:
        raise error
    return verdict
