"""Prompt words the classic engine understands: a style choice plus colour/tone modifiers.

The classic engine has no language model; it reads a prompt against a fixed vocabulary. English is
split into words and matched phrase-first ("new year", "oil painting"); Chinese has no spaces and
is matched longest-first against the same vocabulary. Every word lands in ``used`` (it changed the
result) or ``ignored`` (it meant nothing to this engine); grammar words are dropped silently.

The vocabulary below is the documented public surface (the README lists it):

- :data:`STYLE_WORDS` maps a word to a preset name. A "weak" style word (:data:`WEAK_STYLE_WORDS`)
  only counts when no other style word is present ("portrait of a woman, anime" is anime).
- :data:`MODIFIER_WORDS` maps a word to modifier amounts; amounts of repeated words add up.
- :data:`INTENSIFIERS` scale the next modifier word ("very warm", "稍微暖").
- :data:`STOP_WORDS` are skipped.

:func:`apply_modifiers` turns the modifier amounts into a final colour grade.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cv2
import numpy as np

STYLE_WORDS: dict[str, str] = {
    # anime
    "anime": "anime", "manga": "anime", "cel shaded": "anime", "cel": "anime",
    "二次元": "anime", "动漫": "anime", "日漫": "anime", "动画": "anime",
    # pencil sketch
    "sketch": "sketch", "pencil": "sketch", "graphite": "sketch", "drawing": "sketch",
    "charcoal": "sketch", "素描": "sketch", "铅笔": "sketch", "铅笔画": "sketch", "速写": "sketch",
    # oil painting
    "oil": "oil_painting", "oil painting": "oil_painting", "impasto": "oil_painting",
    "painting": "oil_painting", "油画": "oil_painting",
    # watercolour
    "watercolor": "watercolor", "watercolour": "watercolor", "aquarelle": "watercolor", "水彩": "watercolor",
    "水彩画": "watercolor",
    # retro comic
    "comic": "retro_comic", "comics": "retro_comic", "comic book": "retro_comic", "pop art": "retro_comic",
    "halftone": "retro_comic", "漫画": "retro_comic", "复古漫画": "retro_comic", "美漫": "retro_comic",
    "波普": "retro_comic",
    # Chinese ink painting
    "ink": "chinese_painting", "ink wash": "chinese_painting", "chinese painting": "chinese_painting",
    "sumi-e": "chinese_painting", "水墨": "chinese_painting", "国画": "chinese_painting",
    "古风": "chinese_painting", "水墨画": "chinese_painting",
    # elegant Chinese (gongbi)
    "gongbi": "elegant_chinese", "guofeng": "elegant_chinese", "国风": "elegant_chinese",
    "清雅": "elegant_chinese", "工笔": "elegant_chinese", "清雅国风": "elegant_chinese",
    # future tech
    "cyberpunk": "future_tech", "cyber": "future_tech", "futuristic": "future_tech", "future": "future_tech",
    "sci-fi": "future_tech", "scifi": "future_tech", "tech": "future_tech", "neon": "future_tech",
    "赛博": "future_tech", "赛博朋克": "future_tech", "未来": "future_tech", "科技": "future_tech",
    "未来科技": "future_tech", "霓虹": "future_tech",
    # new year
    "new year": "new_year", "chinese new year": "new_year", "lunar new year": "new_year",
    "spring festival": "new_year", "festive": "new_year", "新年": "new_year", "春节": "new_year",
    "过年": "new_year", "喜庆": "new_year", "喜迎新年": "new_year",
    # 3D fairy tale
    "3d": "fairy_tale_3d", "fairy tale": "fairy_tale_3d", "fairytale": "fairy_tale_3d", "pixar": "fairy_tale_3d",
    "童话": "fairy_tale_3d", "3d童话": "fairy_tale_3d",
    # colourful cartoon
    "cartoon": "colorful_cartoon", "toon": "colorful_cartoon", "卡通": "colorful_cartoon",
    "炫彩": "colorful_cartoon", "炫彩卡通": "colorful_cartoon",
    # fresh
    "fresh": "fresh", "airy": "fresh", "清新": "fresh", "小清新": "fresh",
    # battle-hardened general
    "general": "general", "warrior": "general", "battle": "general", "battle-hardened": "general",
    "将军": "general", "战士": "general", "将军百战": "general", "武将": "general",
    # studio portrait photography
    "portrait": "portrait", "studio": "portrait", "photography": "portrait", "headshot": "portrait",
    "写真": "portrait", "人像": "portrait", "摄影": "portrait", "证件照": "portrait",
}

# Style words that usually describe the subject rather than the look; any other style word wins.
WEAK_STYLE_WORDS: frozenset[str] = frozenset({"portrait", "painting", "drawing", "人像", "future", "未来"})

# Modifier names: warm, cool, pastel, dark, bright, vivid, muted, soft, sharp, vintage, golden,
# mono, contrast, dreamy, cinematic. Apply order and effect: see apply_modifiers.
MODIFIER_WORDS: dict[str, dict[str, float]] = {
    "warm": {"warm": 1.0}, "warmer": {"warm": 1.0}, "暖": {"warm": 1.0}, "暖色": {"warm": 1.0},
    "温暖": {"warm": 1.0}, "暖调": {"warm": 1.0},
    "cool": {"cool": 1.0}, "cold": {"cool": 1.0}, "冷": {"cool": 1.0}, "冷色": {"cool": 1.0},
    "冷调": {"cool": 1.0}, "清冷": {"cool": 1.0},
    "pastel": {"pastel": 1.0}, "柔和": {"pastel": 1.0}, "粉彩": {"pastel": 1.0},
    "dark": {"dark": 1.0}, "moody": {"dark": 0.6, "contrast": 0.4}, "night": {"dark": 0.7, "cool": 0.5},
    "暗": {"dark": 1.0}, "暗黑": {"dark": 1.0}, "暗调": {"dark": 1.0}, "夜晚": {"dark": 0.7, "cool": 0.5},
    "bright": {"bright": 1.0}, "light": {"bright": 0.7}, "明亮": {"bright": 1.0}, "亮": {"bright": 1.0},
    "vivid": {"vivid": 1.0}, "vibrant": {"vivid": 1.0}, "colorful": {"vivid": 1.0}, "colourful": {"vivid": 1.0},
    "saturated": {"vivid": 1.0}, "鲜艳": {"vivid": 1.0}, "艳丽": {"vivid": 1.0}, "多彩": {"vivid": 1.0},
    "muted": {"muted": 1.0}, "desaturated": {"muted": 1.0}, "subdued": {"muted": 1.0},
    "淡雅": {"muted": 1.0}, "素雅": {"muted": 1.0}, "低饱和": {"muted": 1.0},
    "soft": {"soft": 1.0}, "gentle": {"soft": 0.7}, "柔": {"soft": 1.0}, "柔美": {"soft": 1.0},
    "柔光": {"soft": 1.0},
    "sharp": {"sharp": 1.0}, "crisp": {"sharp": 1.0}, "detailed": {"sharp": 0.7}, "锐利": {"sharp": 1.0},
    "清晰": {"sharp": 1.0},
    "vintage": {"vintage": 1.0}, "retro": {"vintage": 1.0}, "old": {"vintage": 0.7}, "film": {"vintage": 0.5},
    "复古": {"vintage": 1.0}, "怀旧": {"vintage": 1.0}, "老照片": {"vintage": 1.0}, "胶片": {"vintage": 0.5},
    "golden": {"golden": 1.0}, "gold": {"golden": 1.0}, "golden hour": {"golden": 1.0}, "sunset": {"golden": 1.0},
    "金色": {"golden": 1.0}, "金": {"golden": 1.0}, "黄昏": {"golden": 1.0}, "夕阳": {"golden": 1.0},
    "black and white": {"mono": 1.0}, "monochrome": {"mono": 1.0}, "grayscale": {"mono": 1.0},
    "greyscale": {"mono": 1.0}, "b&w": {"mono": 1.0}, "黑白": {"mono": 1.0}, "单色": {"mono": 1.0},
    "contrast": {"contrast": 1.0}, "high contrast": {"contrast": 1.0}, "dramatic": {"contrast": 1.0},
    "高对比": {"contrast": 1.0}, "对比": {"contrast": 0.7}, "戏剧": {"contrast": 1.0},
    "dreamy": {"dreamy": 1.0}, "ethereal": {"dreamy": 1.0}, "梦幻": {"dreamy": 1.0}, "唯美": {"dreamy": 0.7},
    "cinematic": {"cinematic": 1.0}, "movie": {"cinematic": 1.0}, "电影": {"cinematic": 1.0},
    "电影感": {"cinematic": 1.0},
}

INTENSIFIERS: dict[str, float] = {
    "very": 1.5, "extra": 1.5, "super": 1.8, "extremely": 2.0, "more": 1.3, "slightly": 0.5,
    "somewhat": 0.6, "a bit": 0.5, "a little": 0.5, "less": 0.5,
    "很": 1.5, "非常": 1.8, "超": 1.8, "更": 1.3, "特别": 1.8, "稍微": 0.5, "有点": 0.5, "略": 0.5, "一点": 0.5,
}

STOP_WORDS: frozenset[str] = frozenset({
    "a", "an", "the", "of", "with", "in", "on", "at", "and", "or", "to", "for", "as", "by", "into", "from",
    "style", "styled", "styles", "like", "look", "looking", "me", "my", "make", "turn", "please", "this",
    "that", "is", "be", "it", "photo", "image", "picture", "pic", "version", "effect", "mode", "tone",
    "tones", "toned", "colors", "colours", "color", "colour", "lighting", "art", "artwork",
    "的", "了", "和", "与", "及", "把", "将", "成", "为", "是", "在", "我", "我的", "请", "给", "一个", "一张",
    "风格", "风", "样式", "效果", "变成", "转换", "转成", "生成", "照片", "图片", "图", "画风", "色调", "色",
    "调", "感", "带", "有", "要", "来", "做", "个", "张", "，", "。", "、", "！", "？", "：", "；",
})

_MAX_MODIFIER = 2.0  # repeated words add up, but a prompt cannot push a grade off the scale
_ASCII_TOKEN = re.compile(r"[a-z0-9][a-z0-9&'\-]*")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+")

_VOCABULARY: set[str] = set(STYLE_WORDS) | set(MODIFIER_WORDS) | set(INTENSIFIERS) | set(STOP_WORDS)
_MAX_PHRASE_WORDS = max(len(k.split()) for k in _VOCABULARY if k.isascii())
_MAX_CJK_LEN = max(len(k) for k in _VOCABULARY if not k.isascii())


@dataclass
class PromptStyle:
    """What a prompt asks of the classic engine.

    ``style`` is a preset name or None; ``modifiers`` maps modifier names (see
    :data:`MODIFIER_WORDS`) to amounts (1.0 = as written, up to 2.0); ``used`` and ``ignored`` are
    the prompt's words in the order they appear.
    """

    style: str | None = None
    modifiers: dict[str, float] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    style_words: dict[str, str] = field(default_factory=dict)  # style word -> the preset it names

    def overridden(self, chosen: str | None) -> None:
        """Style words that did not pick the preset ``chosen`` (another word or the request did)
        move from ``used`` to ``ignored``."""
        for word, preset in self.style_words.items():
            if preset != chosen and word in self.used:
                self.used.remove(word)
                self.ignored.append(word)


def tokenize(prompt: str) -> list[str]:
    """Split ``prompt`` into vocabulary phrases and leftover words (English by words, Chinese by chars)."""
    text = prompt.lower().replace("_", " ")
    tokens: list[str] = []
    pos = 0
    for match in _CJK.finditer(text):
        tokens.extend(_english_tokens(text[pos:match.start()]))
        tokens.extend(_chinese_tokens(match.group()))
        pos = match.end()
    tokens.extend(_english_tokens(text[pos:]))
    return tokens


def _english_tokens(text: str) -> list[str]:
    words = _ASCII_TOKEN.findall(text)
    tokens: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(_MAX_PHRASE_WORDS, len(words) - i), 0, -1):
            phrase = " ".join(words[i:i + n])
            if n == 1 or phrase in _VOCABULARY:
                tokens.append(phrase)
                i += n
                break
    return tokens


def _chinese_tokens(text: str) -> list[str]:
    """Longest match against the vocabulary; runs of unknown characters stay together as one word."""
    tokens: list[str] = []
    unknown = ""
    i = 0
    while i < len(text):
        for n in range(min(_MAX_CJK_LEN, len(text) - i), 0, -1):
            if text[i:i + n] in _VOCABULARY:
                if unknown:
                    tokens.append(unknown)
                    unknown = ""
                tokens.append(text[i:i + n])
                i += n
                break
        else:
            unknown += text[i]
            i += 1
    if unknown:
        tokens.append(unknown)
    return tokens


def parse_prompt(prompt: str) -> PromptStyle:
    """Read ``prompt`` into a style choice, modifier amounts and the used / ignored words."""
    result = PromptStyle()
    strong: str | None = None
    weak: str | None = None
    gain = 1.0
    pending: str | None = None  # an intensifier waiting for its modifier
    for token in tokenize(prompt):
        if token in STOP_WORDS:
            continue
        if token in INTENSIFIERS:
            if pending is not None:
                result.ignored.append(pending)
            gain, pending = INTENSIFIERS[token], token
            continue
        if token in MODIFIER_WORDS:
            for name, amount in MODIFIER_WORDS[token].items():
                total = result.modifiers.get(name, 0.0) + amount * gain
                result.modifiers[name] = min(total, _MAX_MODIFIER)
            if pending is not None:
                result.used.append(pending)
            result.used.append(token)
        elif token in STYLE_WORDS:
            if token in WEAK_STYLE_WORDS:
                weak = weak or STYLE_WORDS[token]
            else:
                strong = strong or STYLE_WORDS[token]
            if pending is not None:
                result.ignored.append(pending)
            result.used.append(token)
            result.style_words[token] = STYLE_WORDS[token]
        else:
            if pending is not None:
                result.ignored.append(pending)
            result.ignored.append(token)
        gain, pending = 1.0, None
    if pending is not None:
        result.ignored.append(pending)
    result.style = strong or weak
    result.overridden(result.style)
    return result


def apply_modifiers(image: np.ndarray, modifiers: dict[str, float], *, gain: float = 1.0) -> np.ndarray:
    """Final colour grade for prompt modifiers on an RGB uint8 image; ``gain`` scales every amount.

    Order: exposure (bright, dark), white balance (warm, cool, golden), chroma (vivid, muted,
    pastel, mono), contrast (contrast, soft, pastel lift), looks (vintage, cinematic, dreamy),
    detail (sharp, soft). Unknown modifier names are ignored.
    """
    amounts = {k: float(v) * gain for k, v in modifiers.items() if abs(float(v) * gain) > 1e-3}
    if not amounts:
        return image
    m = amounts.get
    rgb = image.astype(np.float32) / 255.0
    # 1. exposure: a gamma keeps black and white fixed, so nothing clips
    exposure = 0.35 * m("bright", 0.0) - 0.4 * m("dark", 0.0) + 0.15 * m("pastel", 0.0)
    if exposure:
        rgb = np.power(rgb, float(2.0 ** -exposure))
    # 2. white balance: per-channel gains (temperature) and a golden highlight tint
    temp = 0.07 * (m("warm", 0.0) - m("cool", 0.0)) + 0.04 * m("golden", 0.0) + 0.03 * m("vintage", 0.0)
    if temp:
        rgb *= np.array([1.0 + temp, 1.0 + 0.25 * temp, 1.0 - temp], np.float32)
    if m("golden", 0.0):
        lum = rgb.mean(axis=2, keepdims=True)
        tint = np.array([1.0, 0.78, 0.35], np.float32)
        rgb += (0.12 * m("golden", 0.0)) * np.clip(lum - 0.3, 0.0, 1.0) * (tint - rgb)
    # 3. chroma around the pixel's grey
    saturation = 1.0 + 0.35 * m("vivid", 0.0) - 0.35 * m("muted", 0.0) - 0.3 * m("pastel", 0.0)
    saturation -= 0.25 * m("vintage", 0.0) + 1.0 * m("mono", 0.0)
    if saturation != 1.0:
        grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
        rgb = grey[..., None] + max(saturation, 0.0) * (rgb - grey[..., None])
    # 4. contrast around mid grey; pastel, vintage and soft lift the blacks
    contrast = 1.0 + 0.25 * m("contrast", 0.0) + 0.1 * m("sharp", 0.0) - 0.12 * m("soft", 0.0)
    if contrast != 1.0:
        rgb = 0.5 + (rgb - 0.5) * contrast
    lift = 0.08 * m("pastel", 0.0) + 0.07 * m("vintage", 0.0) + 0.04 * m("dreamy", 0.0)
    if lift > 0:
        rgb = lift + (1.0 - lift) * rgb
    # 5. looks: cinematic teal shadows / orange highlights, dreamy bloom
    if m("cinematic", 0.0):
        lum = np.clip(rgb.mean(axis=2, keepdims=True), 0.0, 1.0)
        teal, orange = np.array([-0.04, 0.01, 0.05], np.float32), np.array([0.05, 0.015, -0.04], np.float32)
        rgb += m("cinematic", 0.0) * ((1.0 - lum) * teal + lum * orange)
    rgb = np.clip(rgb, 0.0, 1.0)
    sigma = 0.006 * min(image.shape[:2])
    bloom = 0.3 * m("dreamy", 0.0) + 0.15 * max(m("soft", 0.0), 0.0)
    sharp = 0.6 * m("sharp", 0.0)
    if bloom > 0 or sharp > 0:
        blurred = cv2.GaussianBlur(rgb, (0, 0), sigma * (3.0 if bloom > 0 else 1.0))
        if bloom > 0:
            rgb = 1.0 - (1.0 - rgb) * (1.0 - min(bloom, 0.6) * blurred)  # screen blend
        if sharp > 0:
            detail = rgb - cv2.GaussianBlur(rgb, (0, 0), sigma)
            rgb = rgb + sharp * detail
    graded: np.ndarray = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return graded
