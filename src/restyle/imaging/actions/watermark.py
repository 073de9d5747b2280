"""``watermark``: a text (``text``, base64url) or a stored image (``image``, base64url object key) on
the image. Text: ``type`` font name (base64url, default wqy-zenhei), ``size`` 1..1000 (40),
``color`` (000000), ``shadow`` 0..100 (0). Image: ``P`` 1..100, the mark's width as a percent of
the image's. Both: ``g`` (se), ``x``/``y`` margins 0..4096 (10), ``voffset`` -1000..1000 (0) for the
west, center and east rows, ``t`` opacity 0..100 (100)."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from restyle.errors import ActionTooLarge, RestyleError
from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import GRAVITIES, Canvas, gravity_cell
from restyle.imaging.actions.fonts import DEFAULT_FONT, FONT_FILES, load_font
from restyle.imaging.actions.params import PARAM, choice, colour, integer, text64

MAX_MARK_BYTES = 5 * 1024 * 1024
MAX_MARK_PIXELS = 4096 * 4096


class Watermark(Action):
    """Draw a text or image watermark."""

    name = "watermark"
    params = (
        text64("text", 64),
        text64("type", 64),
        integer("size", 1, 1000, default=40),
        colour("color", "000000"),
        integer("shadow", 0, 100, default=0),
        text64("image", 1024),
        integer("P", 1, 100),
        integer("t", 0, 100, default=100),
        choice("g", *GRAVITIES, default="se"),
        integer("x", 0, 4096, default=10),
        integer("y", 0, 4096, default=10),
        integer("voffset", -1000, 1000, default=0),
    )
    required = ("text", "image")

    def check(self) -> None:
        if "text" in self.given and "image" in self.given:
            raise self.fail(
                "Action 'watermark' takes 'text' or 'image', not both; use two watermark steps.", "image"
            )
        text_only = ("type", "size", "color", "shadow")
        wrong = [k for k in text_only if k in self.given] if "image" in self.given else []
        if "P" in self.given and "text" in self.given:
            wrong.append("P")
        if wrong:
            raise self.fail(
                f"Action 'watermark' parameter '{wrong[0]}' does not apply to this kind of watermark.",
                wrong[0],
            )
        font = self.value("type")
        if isinstance(font, str) and font not in FONT_FILES:
            raise self.fail(
                f"Action 'watermark' parameter 'type' names font '{font}'; use one of "
                f"{', '.join(FONT_FILES)} (base64url-encoded).",
                "type",
            )

    def apply(self, canvas: Canvas) -> Canvas:
        mark = self._text_mark() if "text" in self.given else self._image_mark(canvas)
        if canvas.bgr:
            mark = mark[..., [2, 1, 0, 3]]
        left, top = self._place(canvas.width, canvas.height, mark.shape[1], mark.shape[0])
        canvas.pixels = _blend(canvas.pixels, mark, left, top, self.int_value("t") / 100)
        return canvas

    def _text_mark(self) -> np.ndarray:
        font_name = self.value("type")
        font = load_font(font_name if isinstance(font_name, str) else DEFAULT_FONT, self.int_value("size"))
        text = self.str_value("text")
        box = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=font)
        left, top, right, bottom = (int(round(v)) for v in box)
        offset = max(1, self.int_value("size") // 20)  # shadow offset grows with the text
        if (right - left + offset) * (bottom - top + offset) > MAX_MARK_PIXELS:
            raise ActionTooLarge(
                f"Action 'watermark' text would be {right - left}x{bottom - top} pixels; the limit is "
                f"{MAX_MARK_PIXELS} pixels: lower 'size' or shorten 'text'.",
                param=PARAM,
                details={"action": self.name, "parameter": "size"},
            )
        layer = Image.new("RGBA", (right - left + offset, bottom - top + offset), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        shadow = self.int_value("shadow")
        if shadow:
            draw.text(
                (offset - left, offset - top), text, font=font, fill=(0, 0, 0, round(255 * shadow / 100))
            )
        hex_colour = self.str_value("color")
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
        draw.text((-left, -top), text, font=font, fill=(*rgb, 255))
        return np.asarray(layer)

    def _image_mark(self, canvas: Canvas) -> np.ndarray:
        key = self.str_value("image")
        if canvas.resolve_object is None:
            raise self.fail(
                "Action 'watermark' parameter 'image' names a stored object, but this request "
                "has no store to read it from.",
                "image",
            )
        try:
            data = canvas.resolve_object(key)
        except RestyleError as exc:
            raise self.fail(
                f"Action 'watermark' parameter 'image' names '{key}', which could not be read ({exc.code}).",
                "image",
            ) from exc
        mark = _decode_mark(data, self)
        if "P" in self.given:
            width = max(1, round(canvas.width * self.int_value("P") / 100))
            height = max(1, round(mark.shape[0] * width / mark.shape[1]))
            mark = cv2.resize(mark, (width, height), interpolation=cv2.INTER_AREA)
        return mark

    def _place(self, width: int, height: int, mark_w: int, mark_h: int) -> tuple[int, int]:
        column, row = gravity_cell(self.str_value("g"))
        x, y = self.int_value("x"), self.int_value("y")
        left = (x, (width - mark_w) // 2, width - mark_w - x)[column]
        top = (y, (height - mark_h) // 2 + self.int_value("voffset"), height - mark_h - y)[row]
        return left, top


def _decode_mark(data: bytes, action: Watermark) -> np.ndarray:
    from restyle.imaging.actions.decoding import decode_source, open_source
    from restyle.imaging.limits import InputRules

    rules = InputRules(
        "watermark", max_bytes=MAX_MARK_BYTES, max_pixels=MAX_MARK_PIXELS, min_side=1, max_side=4096
    )
    try:
        source = open_source(data, rules)
        pixels = decode_source(data, source, rules, keep_alpha=True).pixels
    except RestyleError as exc:
        raise action.fail(
            f"Action 'watermark' parameter 'image' names an object that is not a usable image: {exc.message}",
            "image",
        ) from exc
    return pixels if pixels.shape[2] == 4 else np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])


def _blend(base: np.ndarray, mark: np.ndarray, left: int, top: int, opacity: float) -> np.ndarray:
    """``mark`` (RGBA) over ``base`` at (left, top), clipped to the base; a new array."""
    height, width = base.shape[:2]
    x0, y0, x1, y1 = (
        max(0, left),
        max(0, top),
        min(width, left + mark.shape[1]),
        min(height, top + mark.shape[0]),
    )
    out = base.copy()
    if x0 >= x1 or y0 >= y1:
        return out
    piece = mark[y0 - top : y1 - top, x0 - left : x1 - left]
    alpha = piece[..., 3:4].astype(np.float32) * (opacity / 255.0)
    region = out[y0:y1, x0:x1]
    colour = region[..., :3].astype(np.float32) * (1 - alpha) + piece[..., :3].astype(np.float32) * alpha
    region[..., :3] = np.clip(colour + 0.5, 0, 255).astype(np.uint8)
    if base.shape[2] == 4:
        base_alpha = region[..., 3:4].astype(np.float32) / 255.0
        region[..., 3:4] = np.clip((alpha + base_alpha * (1 - alpha)) * 255 + 0.5, 0, 255).astype(np.uint8)
    return out
