"""Quarter turns and mirrors as one algebra: EXIF orientations, ``rotate`` by multiples of 90 and
``flip`` compose into a single transform (one of eight), applied to pixels, YCbCr planes or, by
libjpeg, to DCT blocks. A transform is a 2 x 2 matrix on (x, y) with y pointing down."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.imaging import turbojpeg as tj

Turn = tuple[int, int, int, int]  # (a, b, c, d): x' = a x + b y, y' = c x + d y

IDENTITY: Turn = (1, 0, 0, 1)
_BY_OP: dict[int, Turn] = {
    tj.OP_NONE: IDENTITY,
    tj.OP_HFLIP: (-1, 0, 0, 1),
    tj.OP_VFLIP: (1, 0, 0, -1),
    tj.OP_TRANSPOSE: (0, 1, 1, 0),
    tj.OP_TRANSVERSE: (0, -1, -1, 0),
    tj.OP_ROT90: (0, -1, 1, 0),  # clockwise
    tj.OP_ROT180: (-1, 0, 0, -1),
    tj.OP_ROT270: (0, 1, -1, 0),
}
OP_OF: dict[Turn, int] = {turn: op for op, turn in _BY_OP.items()}
# the transform that makes a photo with this EXIF orientation upright
EXIF: dict[int, Turn] = {
    1: IDENTITY,
    2: _BY_OP[tj.OP_HFLIP],
    3: _BY_OP[tj.OP_ROT180],
    4: _BY_OP[tj.OP_VFLIP],
    5: _BY_OP[tj.OP_TRANSPOSE],
    6: _BY_OP[tj.OP_ROT90],
    7: _BY_OP[tj.OP_TRANSVERSE],
    8: _BY_OP[tj.OP_ROT270],
}
ROTATIONS: dict[int, Turn] = {
    0: IDENTITY,
    90: _BY_OP[tj.OP_ROT90],
    180: _BY_OP[tj.OP_ROT180],
    270: _BY_OP[tj.OP_ROT270],
}
FLIPS: dict[str, Turn] = {"h": _BY_OP[tj.OP_HFLIP], "v": _BY_OP[tj.OP_VFLIP], "both": _BY_OP[tj.OP_ROT180]}


def then(first: Turn, second: Turn) -> Turn:
    """``first`` followed by ``second`` (the matrix product second x first)."""
    a, b, c, d = second
    e, f, g, h = first
    return (a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h)


def swaps(turn: Turn) -> bool:
    """True when the transform exchanges width and height."""
    return turn[0] == 0


def moved_edges(turn: Turn) -> tuple[bool, bool]:
    """(right, bottom): whether the source's right or bottom edge ends up at the output's left or top.
    A partial block or chroma sample on such an edge would then be misplaced."""
    a, b, c, d = turn
    # the source corner (sx, sy) in {-1, 1}^2 that lands on the output's top-left: transpose x (-1, -1)
    return -(a + c) > 0, -(b + d) > 0


def apply(pixels: np.ndarray, turn: Turn) -> np.ndarray:
    """``pixels`` (any channel count, or a single plane) transformed."""
    op = OP_OF[turn]
    if op == tj.OP_NONE:
        return pixels
    if op == tj.OP_HFLIP:
        return cv2.flip(pixels, 1)
    if op == tj.OP_VFLIP:
        return cv2.flip(pixels, 0)
    if op == tj.OP_ROT180:
        return cv2.rotate(pixels, cv2.ROTATE_180)
    if op == tj.OP_ROT90:
        return cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE)
    if op == tj.OP_ROT270:
        return cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE)
    transposed = cv2.transpose(pixels)
    return transposed if op == tj.OP_TRANSPOSE else cv2.rotate(transposed, cv2.ROTATE_180)
