"""Which function renders which preset: ``"module:function"`` inside ``restyle.engines.classic``.

One module per style family; modules are imported on first use.
"""

from __future__ import annotations

RENDERERS: dict[str, str] = {
    "retro_comic": "comic:render_retro_comic",
    "fairy_tale_3d": "cartoon:render_fairy_tale_3d",
    "anime": "anime:render_anime",
    "fresh": "fresh:render_fresh",
    "future_tech": "tech:render_future_tech",
    "chinese_painting": "ink:render_chinese_painting",
    "general": "general:render_general",
    "colorful_cartoon": "cartoon:render_colorful_cartoon",
    "elegant_chinese": "ink:render_elegant_chinese",
    "new_year": "festive:render_new_year",
    "sketch": "sketch:render_sketch",
    "oil_painting": "paint:render_oil_painting",
    "watercolor": "paint:render_watercolor",
    "portrait": "portrait:render_portrait",
}
