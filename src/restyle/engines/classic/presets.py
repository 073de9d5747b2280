"""The classic engine's style presets: the ten wanx ``style_index`` styles, then extras."""

from __future__ import annotations

from restyle.domain import StylePreset
from restyle.styles import StyleCatalog

PRESETS: list[StylePreset] = [
    StylePreset("retro_comic", "Retro comic", "复古漫画", "Cel print in aged colours, bold outlines, Ben-Day dots in the shadows, cream paper.", 0),
    StylePreset("fairy_tale_3d", "3D fairy tale", "3D童话", "Flat material colours lit as rounded volumes, rim light, glossy big eyes, saturated.", 1),
    StylePreset("anime", "Anime", "二次元", "Cel animation: flat colour regions, one hard shadow tone, crisp outlines, big eyes.", 2),
    StylePreset("fresh", "Fresh", "小清新", "Airy pastel tones, lifted shadows, soft light.", 3),
    StylePreset("future_tech", "Future tech", "未来科技", "Cyan/magenta neon glow, dark tech backdrop.", 4),
    StylePreset("chinese_painting", "Chinese painting", "国画古风", "Ink wash: grey washes, brush contours, rice paper, a red seal.", 5),
    StylePreset("general", "Battle-hardened general", "将军百战", "Gritty, high-contrast, desaturated bronze.", 6),
    StylePreset("colorful_cartoon", "Colourful cartoon", "炫彩卡通", "Saturated two-tone colour regions with thick outlines and a cel face.", 7),
    StylePreset("elegant_chinese", "Elegant Chinese style", "清雅国风", "Gongbi: flat mineral colours in fine ink outlines on pale silk.", 8),
    StylePreset("new_year", "Chinese New Year", "喜迎新年", "Flat-toned festive print in red and gold with ink outlines and paper-cuts.", 9),
    StylePreset("sketch", "Pencil sketch", "素描", "Graphite pencil lines and hatching on paper.", line_art=True),
    StylePreset("oil_painting", "Oil painting", "油画", "Thick directional brush strokes, rich colour.", None),
    StylePreset("watercolor", "Watercolour", "水彩", "Wet washes, pigment bleeding, paper grain.", None),
    StylePreset("portrait", "Studio portrait", "写真", "Realistic studio portrait: relight, soft background, grade.", None),
]

ALIASES: dict[str, str] = {
    "3d": "fairy_tale_3d",
    "comic": "retro_comic",
    "cartoon": "colorful_cartoon",
    "oil": "oil_painting",
    "watercolour": "watercolor",
    "pencil": "sketch",
    "ink": "chinese_painting",
}

CATALOG = StyleCatalog(PRESETS, ALIASES)


def find_preset(style: str | int) -> StylePreset:
    """A classic preset by index, name or display name (see :class:`StyleCatalog`)."""
    return CATALOG.find(style)
