"""Find a font that draws the label text: fontconfig, then known Debian paths, then ``labels.font_path``."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from PIL import ImageFont

from restyle.errors import LabelFontMissing

# Debian packages fonts-wqy-microhei, fonts-wqy-zenhei and fonts-noto-cjk
KNOWN_CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
)
PROBE = "生成"  # glyphs a CJK font must have


def find_font(text: str, configured: Path | None = None, *, system: bool = True) -> Path | None:
    """A font file that has every glyph of ``text``; None when there is none.

    Latin-only text may use any font fontconfig offers; CJK text needs a font with Chinese glyphs.
    ``system=False`` tries only ``configured`` (the operator's ``labels.font_path``).
    """
    needs_cjk = any(ord(ch) > 0x2E80 for ch in text)
    for candidate in _candidates(needs_cjk, str(configured) if configured else None, system):
        if _has_glyphs(candidate, PROBE if needs_cjk else "AI"):
            return Path(candidate)
    return None


def require_font(text: str, configured: Path | None = None, *, system: bool = True) -> Path:
    """:func:`find_font` or a LabelFontMissing that says how to install one."""
    found = find_font(text, configured, system=system)
    if found is None:
        raise LabelFontMissing(
            f"No font that can draw the visible label '{text}' was found; install the Debian package "
            "fonts-wqy-microhei (or fonts-noto-cjk), or set labels.font_path (RESTYLE_LABELS__FONT_PATH) "
            "to a font file with Chinese glyphs."
        )
    return found


@functools.lru_cache(maxsize=4)
def _candidates(needs_cjk: bool, configured: str | None, system: bool) -> tuple[str, ...]:
    found: list[str] = []
    if configured:
        found.append(configured)  # the operator's explicit choice is tried first
    if not system:
        return tuple(p for p in found if Path(p).is_file())
    # a CJK font draws Latin too, so both languages look alike when one is installed
    found.extend(_fontconfig(["fc-list", ":lang=zh", "file"]))
    found.extend(KNOWN_CJK_FONTS)
    if not needs_cjk:
        found.extend(_fontconfig(["fc-match", "-f", "%{file}", "sans:bold"]))
        found.append("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    return tuple(dict.fromkeys(p for p in found if Path(p).is_file()))


def _fontconfig(argv: list[str]) -> list[str]:
    """Font files a fontconfig tool prints (``fc-list :lang=zh``, not ``fc-match``: it always answers a font)."""
    if shutil.which(argv[0]) is None:
        return []
    try:
        text = subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(line.strip().rstrip(":").strip() for line in text.splitlines() if line.strip())


@functools.lru_cache(maxsize=16)
def _has_glyphs(path: str, probe: str) -> bool:
    """True when every character of ``probe`` has its own glyph (not the font's empty .notdef box)."""
    try:
        font = ImageFont.truetype(path, 32)
    except OSError:
        return False
    missing = font.getmask("\U0010ffff")  # a code point no font maps: its mask is the .notdef glyph
    for ch in probe:
        mask = font.getmask(ch)
        if mask.size == (0, 0) or (mask.size == missing.size and bytes(mask) == bytes(missing)):
            return False
    return True
