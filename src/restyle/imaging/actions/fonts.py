"""Fonts for text watermarks: the OSS/TOS font names mapped to files installed on this machine.

A name whose font is not installed falls back to DejaVu Sans, then to Pillow's built-in font, so
that a watermark is never dropped; ``restyle templates check`` and the README list the names.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import ImageFont

_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
FONT_FILES: dict[str, tuple[str, ...]] = {
    "wqy-zenhei": ("wqy-zenhei.ttc",),
    "wqy-microhei": ("wqy-microhei.ttc",),
    "fangzhengshusong": ("FZSSJW.TTF", "fangzhengshusong.ttf"),
    "fangzhengkaiti": ("FZKTJW.TTF", "fangzhengkaiti.ttf"),
    "fangzhengheiti": ("FZHTJW.TTF", "fangzhengheiti.ttf"),
    "fangzhengfangsong": ("FZFSJW.TTF", "fangzhengfangsong.ttf"),
    "droidsansfallback": ("DroidSansFallbackFull.ttf", "DroidSansFallback.ttf"),
    "dejavu-sans": ("DejaVuSans.ttf",),
    "dejavu-serif": ("DejaVuSerif.ttf",),
    "dejavu-mono": ("DejaVuSansMono.ttf",),
}
FALLBACK = ("DejaVuSans.ttf",)
DEFAULT_FONT = "wqy-zenhei"


@functools.cache
def _find(file_name: str) -> Path | None:
    for folder in _DIRS:
        if folder.is_dir():
            for path in folder.rglob(file_name):
                return path
    return None


@functools.cache
def font_path(name: str) -> Path | None:
    """The file of the font called ``name`` (a key of FONT_FILES), else of the fallback, else None."""
    for file_name in FONT_FILES.get(name, ()) + FALLBACK:
        path = _find(file_name)
        if path is not None:
            return path
    return None


def load_font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The font called ``name`` at ``size`` pixels; a new object per call, since FreeType faces may
    not be shared between threads (requests run in a thread pool)."""
    path = font_path(name)
    return ImageFont.truetype(str(path), size) if path is not None else ImageFont.load_default(size)
