"""``format,<jpg|jpeg|png|webp|avif|heic|bmp|gif>``: the output format (default: the source's, or PNG
for sources restyle does not write). May appear once."""

from __future__ import annotations

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas
from restyle.imaging.actions.params import choice

FORMATS = ("jpg", "jpeg", "png", "webp", "avif", "heic", "bmp", "gif")


class Format(Action):
    """Choose the output format."""

    name = "format"
    params = (choice("value", *FORMATS),)
    positional = "value"
    required = ("value",)
    once = True

    @property
    def family(self) -> str:
        value = self.str_value("value")
        return "jpeg" if value == "jpg" else value

    def apply(self, canvas: Canvas) -> Canvas:
        return canvas  # the pipeline sets canvas.target_format before the first step
