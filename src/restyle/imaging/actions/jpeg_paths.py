"""JPEG in, JPEG out without the full pixel round trip: two paths tried before the pixel path.

1. Lossless: a chain that only turns, mirrors and re-encodes (``rotate`` by multiples of 90, ``flip``,
   ``format,jpg``, ``interlace``, ``auto-orient``, a quality not above the source's) is one libjpeg
   DCT-domain transform: no decode, no generation loss, metadata dropped. libjpeg does it only when
   it is perfect (no partial edge block moves to a leading edge); otherwise path 2 or the pixels.
2. Planes: the same chains plus ``crop`` on chroma-aligned boxes, done on the stored Y, Cb, Cr planes
   and encoded from them: no chroma upsampling, colour conversion or chroma downsampling (the chroma
   is kept as stored rather than blurred by a resample round trip).

Both need a plain JPEG (YCbCr 4:2:0 or grey, no colour profile: see decoding.plain_jpeg) and no
metadata to write. A third fast path, decoding only the region a leading ``crop`` keeps, lives in
decoding.py because it serves every output format.
"""

from __future__ import annotations

import numpy as np

from restyle.imaging import turbojpeg as tj
from restyle.imaging.actions import turns
from restyle.imaging.actions.crop import Crop
from restyle.imaging.actions.decoding import Source
from restyle.imaging.actions.flip import Flip
from restyle.imaging.actions.parser import ActionChain
from restyle.imaging.actions.rotate import Rotate

_SETTINGS = frozenset({"format", "quality", "interlace", "auto-orient"})
_SUBSAMPLINGS = frozenset({tj.SAMP_420, tj.SAMP_GRAY})  # what the pixel path would write too


def jpeg_to_jpeg(
    data: bytes, source: Source, chain: ActionChain, *, orient: bool, quality: int, progressive: bool
) -> tuple[bytes, str] | None:
    """``data`` processed by ``chain`` and the path taken ("lossless" or "planes"), or None when
    neither applies."""
    head = _eligible_header(data, source)
    if head is None:
        return None
    start = turns.EXIF[source.orientation] if orient else turns.IDENTITY
    steps = _steps(chain)
    if steps is None or (steps and isinstance(steps[0], Crop) and start == turns.IDENTITY):
        return None  # other steps, or a leading crop: decoding only its region is cheaper (decoding.py)
    # 1. lossless, when there is no crop and the source is not finer than what was asked for; a turn
    # that swaps width and height moves every block through memory and is faster on the planes
    lossless = _lossless_turn(start, steps)
    source_quality = source.jpeg_quality()
    if lossless is not None and (source_quality is None or source_quality > quality):
        lossless = None
    if lossless is not None and not turns.swaps(lossless):
        try:
            return tj.transform(data, turns.OP_OF[lossless], progressive=progressive), "lossless"
        except tj.TurboError:
            lossless = None  # not perfect (a partial edge block would move), or corrupt data
    # 2. planes
    encoded = _planes(data, head, start, steps, quality, progressive)
    if encoded is not None:
        return encoded, "planes"
    if lossless is not None:
        try:
            return tj.transform(data, turns.OP_OF[lossless], progressive=progressive), "lossless"
        except tj.TurboError:
            pass
    return None


def _lossless_turn(start: turns.Turn, steps: list[Step]) -> turns.Turn | None:
    """The one transform a crop-free chain amounts to, or None when it crops."""
    turn = start
    for step in steps:
        if isinstance(step, Crop):
            return None
        turn = turns.then(turn, step)
    return turn


def _eligible_header(data: bytes, source: Source) -> tj.JpegHeader | None:
    if not tj.available():
        return None
    try:
        head = tj.header(data)
    except tj.TurboError:
        return None
    if head.subsampling not in _SUBSAMPLINGS or head.colorspace not in (tj.CS_YCBCR, tj.CS_GRAY):
        return None
    if (head.width, head.height) != source.stored_size:
        return None
    return head


Step = turns.Turn | Crop


def _steps(chain: ActionChain) -> list[Step] | None:
    """The chain as turns and crops, or None when it has any other pixel step."""
    steps: list[Step] = []
    for action in chain.actions:
        if action.name in _SETTINGS:
            continue
        if isinstance(action, Rotate) and action.int_value("angle") % 90 == 0:
            steps.append(turns.ROTATIONS[action.int_value("angle") % 360])
        elif isinstance(action, Flip):
            steps.append(turns.FLIPS[action.str_value("direction")])
        elif isinstance(action, Crop):
            steps.append(action)
        else:
            return None
    return steps


class _Planes:
    """The Y (Cb, Cr) planes of an image of ``width`` x ``height`` cut to their exact sizes; without
    planes, only the geometry (to learn whether every step fits before anything is decoded)."""

    def __init__(self, width: int, height: int, factor: int, planes: list[np.ndarray] | None = None) -> None:
        self.factor = factor  # chroma subsampling, the same across and down (1 for grey)
        self.width, self.height = width, height
        self.planes: list[np.ndarray] = []
        if planes is not None:
            self.planes = [planes[0][:height, :width]] + [
                p[: -(-height // factor), : -(-width // factor)] for p in planes[1:]
            ]

    def turn(self, turn: turns.Turn) -> bool:
        right, bottom = turns.moved_edges(turn)
        if (right and self.width % self.factor) or (bottom and self.height % self.factor):
            return False  # a half chroma sample would land on a leading edge
        self.planes = [turns.apply(p, turn) for p in self.planes]
        if turns.swaps(turn):
            self.width, self.height = self.height, self.width
        return True

    def crop(self, box: tuple[int, int, int, int]) -> bool:
        left, top, right, bottom = box
        f = self.factor
        if left % f or top % f:
            return False
        self.planes = [p[top:bottom, left:right] for p in self.planes[:1]] + [
            p[top // f : -(-bottom // f), left // f : -(-right // f)] for p in self.planes[1:]
        ]
        self.width, self.height = right - left, bottom - top
        return True

    def run(self, start: turns.Turn, steps: list[Step]) -> bool:
        """Every step in turn; False as soon as one does not fit the chroma grid."""
        if not self.turn(start):
            return False
        for step in steps:
            done = self.crop(step.box(self.width, self.height)) if isinstance(step, Crop) else self.turn(step)
            if not done:
                return False
        return True

    def padded(self, subsampling: int) -> list[np.ndarray]:
        """The planes at the sizes libjpeg reads (edge samples repeated into any padding)."""
        out = []
        for plane, (rows, columns) in zip(
            self.planes, tj.plane_shapes(self.width, self.height, subsampling), strict=True
        ):
            extra = ((0, rows - plane.shape[0]), (0, columns - plane.shape[1]))
            out.append(np.pad(plane, extra, mode="edge") if any(e[1] for e in extra) else plane)
        return out


def _planes(
    data: bytes, head: tj.JpegHeader, start: turns.Turn, steps: list[Step], quality: int, progressive: bool
) -> bytes | None:
    factor = 1 if head.subsampling == tj.SAMP_GRAY else 2
    if not _Planes(head.width, head.height, factor).run(start, steps):
        return None
    try:
        planes = _Planes(head.width, head.height, factor, tj.decode_planes(data, head))
    except tj.TurboError:
        return None  # the pixel path reports the problem in its own words
    planes.run(start, steps)
    try:
        return tj.encode_planes(
            planes.padded(head.subsampling),
            planes.width,
            planes.height,
            head.subsampling,
            quality,
            progressive,
        )
    except tj.TurboError:
        return None
