"""Text normalisation for blocklist matching: the same steps for the list terms and the prompts.

1. NFKD: full-width letters and digits become ASCII, compatibility forms (circled, ligatures) plain.
2. Combining marks and invisible format characters (zero-width spaces and joiners, soft hyphens,
   direction marks, variation selectors) are dropped, so "s\u200bex" and accented letters match.
3. Case folding, then traditional -> simplified Chinese, character by character (zhconv's table).
4. Two views of the result: ``words`` (Latin-script words separated by single spaces, for whole-word
   matching of English terms) and ``compact`` (every letter and digit of any script with all spaces,
   punctuation and symbols removed, for substring matching of Chinese terms).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from restyle.errors import MissingExtra

_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef]+"
)
LATIN_CHARS = "0-9a-z\u00df-\u024f"
_LATIN_WORD = re.compile(f"[{LATIN_CHARS}]+")
# a one-letter word followed by at least one more, in a line of words one space apart
_SINGLE_LETTER_RUN = re.compile(f"(?<![{LATIN_CHARS}])[{LATIN_CHARS}](?: [{LATIN_CHARS}](?![{LATIN_CHARS}]))+")
_PUNCTUATION = re.compile(r"[^\w\s]|_")  # punctuation and symbols, not letters of any script
_NOT_ALNUM = re.compile(r"[\W_]+")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})


@dataclass(frozen=True)
class NormalizedText:
    """A prompt in the two views the blocklists match against (see the module docstring)."""

    words: str  # lines of Latin words, one line per variant; terms never match across a line break
    compact: str


@functools.lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict[int, str]:
    """zhconv's one-character traditional -> simplified mappings (its data file; the module is not imported)."""
    spec = importlib.util.find_spec("zhconv")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "zhcdict.json"
        if path.is_file():
            table = json.loads(path.read_text(encoding="utf-8"))["zh2Hans"]
            return {ord(key): value for key, value in table.items() if len(key) == 1}
    raise MissingExtra(
        "The prompt safety check needs zhconv's traditional/simplified Chinese table: pip install zhconv."
    )


def fold(text: str) -> str:
    """Steps 1 to 3: NFKD, invisible characters and marks dropped, case folded, simplified Chinese."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKD", text))
    return text.casefold().translate(_traditional_to_simplified())


def word_line(folded: str) -> str:
    """The Latin-script words of folded text, one space apart; runs of one-letter words are joined
    ("s e x" -> "sex")."""
    line = " ".join(_LATIN_WORD.findall(folded))
    return _SINGLE_LETTER_RUN.sub(lambda run: run.group(0).replace(" ", ""), line)


def latin_words(folded: str) -> list[str]:
    """The words of ``word_line``."""
    line = word_line(folded)
    return line.split(" ") if line else []


def compact(folded: str) -> str:
    """Folded text with every space, punctuation mark and symbol removed."""
    return _NOT_ALNUM.sub("", folded)


def normalize(text: str, *, leetspeak: bool = True) -> NormalizedText:
    """The views of ``text`` for matching.

    ``words`` holds up to four lines: punctuation as a word break ("red,ass" -> "red ass"),
    punctuation removed inside words ("s.e.x", "se-x" -> "sex"), and the same two with leetspeak
    digits and symbols read as letters ("s3x" -> "sex") when ``leetspeak`` is set.
    """
    folded = fold(text)
    variants = [folded]
    if leetspeak:
        leet = folded.translate(_LEET)
        if leet != folded:
            variants.append(leet)
    lines: list[str] = []
    for variant in variants:
        for view in (variant, _PUNCTUATION.sub("", variant)):
            line = word_line(view)
            if line not in lines:
                lines.append(line)
    return NormalizedText(words="\n".join(lines), compact=compact(folded))
