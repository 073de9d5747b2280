"""An Adam7-interlaced PNG writer (Pillow and OpenCV write only non-interlaced PNGs)."""

from __future__ import annotations

import struct
import zlib

import numpy as np

# (x start, y start, x step, y step) of the seven Adam7 passes
_PASSES = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def encode_png_adam7(pixels: np.ndarray, level: int = 1) -> bytes:
    """RGB or RGBA uint8 pixels as an 8-bit interlaced PNG (filter type 0 on every row)."""
    height, width, channels = pixels.shape
    colour_type = 6 if channels == 4 else 2
    raw = bytearray()
    for x0, y0, dx, dy in _PASSES:
        sub = pixels[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        rows = np.zeros((sub.shape[0], 1 + sub.shape[1] * channels), dtype=np.uint8)
        rows[:, 1:] = sub.reshape(sub.shape[0], -1)
        raw += rows.tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), level))
        + _chunk(b"IEND", b"")
    )
