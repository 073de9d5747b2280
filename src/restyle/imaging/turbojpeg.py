"""libjpeg-turbo's TurboJPEG API (Debian's ``libturbojpeg0``) through ctypes: the JPEG fast paths.

Why not Pillow or OpenCV: neither reaches the parts of libjpeg that make JPEG-to-JPEG work cheap:
decoding straight to YCbCr planes (no upsampling or colour conversion, and none again on encode),
lossless DCT-domain transforms (rotate, flip, crop, strip metadata: no decode at all), and a plain
decode that is faster than OpenCV's on large images. When the library is missing, :func:`available`
is False and every caller keeps its pixel path.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
from collections.abc import Iterator
from ctypes import POINTER, byref, c_int, c_ubyte, c_ulong, c_void_p
from dataclasses import dataclass

import numpy as np

# TurboJPEG constants (turbojpeg.h, stable since libjpeg-turbo 1.4)
SAMP_444, SAMP_422, SAMP_420, SAMP_GRAY, SAMP_440, SAMP_411 = range(6)
CS_RGB, CS_YCBCR, CS_GRAY, CS_CMYK, CS_YCCK = range(5)
PF_BGR, PF_GRAY = 1, 6
FLAG_PROGRESSIVE = 16384
ERR_WARNING = 0
OP_NONE, OP_HFLIP, OP_VFLIP, OP_TRANSPOSE, OP_TRANSVERSE, OP_ROT90, OP_ROT180, OP_ROT270 = range(8)
OPT_PERFECT, OPT_CROP, OPT_PROGRESSIVE, OPT_COPYNONE = 1, 4, 32, 64
# MCU (width, height) per subsampling: a lossless crop starts on these, a perfect transform needs them
MCU = {
    SAMP_444: (8, 8),
    SAMP_422: (16, 8),
    SAMP_420: (16, 16),
    SAMP_GRAY: (8, 8),
    SAMP_440: (8, 16),
    SAMP_411: (32, 8),
}
_LIBRARY_NAMES = ("libturbojpeg.so.0", "libturbojpeg.so", "libturbojpeg.dylib")


class TurboError(Exception):
    """libjpeg-turbo refused the data or the operation (the message is libjpeg's)."""


class _Region(ctypes.Structure):
    _fields_ = [("x", c_int), ("y", c_int), ("w", c_int), ("h", c_int)]


class _Transform(ctypes.Structure):
    _fields_ = [("r", _Region), ("op", c_int), ("options", c_int), ("data", c_void_p), ("filter", c_void_p)]


@dataclass(frozen=True)
class JpegHeader:
    """What a JPEG's header says: stored size, chroma subsampling (SAMP_*) and colour space (CS_*)."""

    width: int
    height: int
    subsampling: int
    colorspace: int

    @property
    def mcu(self) -> tuple[int, int]:
        return MCU.get(self.subsampling, (8, 8))


@functools.cache
def _library() -> ctypes.CDLL | None:
    names = [n for n in (ctypes.util.find_library("turbojpeg"),) if n] + list(_LIBRARY_NAMES)
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if hasattr(lib, "tjDecompressToYUVPlanes") and hasattr(lib, "tjGetErrorCode"):  # 1.4+ / 2.0+
            return _declare(lib)
    return None


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    ptr, size = POINTER(c_ubyte), c_ulong
    for name in ("tjInitDecompress", "tjInitCompress", "tjInitTransform"):
        getattr(lib, name).restype = c_void_p
    signatures = {
        "tjDecompressHeader3": [c_void_p, ptr, size, *([POINTER(c_int)] * 4)],
        "tjDecompress2": [c_void_p, ptr, size, ptr, c_int, c_int, c_int, c_int, c_int],
        "tjDecompressToYUVPlanes": [c_void_p, ptr, size, POINTER(ptr), c_int, POINTER(c_int), c_int, c_int],
        "tjCompress2": [
            c_void_p,
            ptr,
            c_int,
            c_int,
            c_int,
            c_int,
            POINTER(ptr),
            POINTER(size),
            c_int,
            c_int,
            c_int,
        ],
        "tjCompressFromYUVPlanes": [
            c_void_p,
            POINTER(ptr),
            c_int,
            POINTER(c_int),
            c_int,
            c_int,
            POINTER(ptr),
            POINTER(size),
            c_int,
            c_int,
        ],
        "tjTransform": [c_void_p, ptr, size, c_int, POINTER(ptr), POINTER(size), POINTER(_Transform), c_int],
        "tjPlaneWidth": [c_int, c_int, c_int],
        "tjPlaneHeight": [c_int, c_int, c_int],
        "tjGetErrorCode": [c_void_p],
        "tjGetErrorStr2": [c_void_p],
        "tjFree": [ptr],
        "tjDestroy": [c_void_p],
    }
    for name, argtypes in signatures.items():
        getattr(lib, name).argtypes = argtypes
        getattr(lib, name).restype = c_int
    lib.tjGetErrorStr2.restype = ctypes.c_char_p
    lib.tjFree.restype = None
    return lib


def available() -> bool:
    """True when libturbojpeg is installed (Debian: ``libturbojpeg0``)."""
    return _library() is not None


@contextlib.contextmanager
def _handle(kind: str) -> Iterator[tuple[ctypes.CDLL, int]]:
    """A fresh TurboJPEG handle for one call: a handle is not thread-safe, and one reused after a
    progressive transform was seen to carry state into the next call (libjpeg-turbo 2.1)."""
    lib = _library()
    if lib is None:
        raise TurboError("libturbojpeg is not installed")
    handle = getattr(lib, {"d": "tjInitDecompress", "c": "tjInitCompress", "t": "tjInitTransform"}[kind])()
    if not handle:
        raise TurboError("libturbojpeg could not create a handle")
    try:
        yield lib, handle
    finally:
        lib.tjDestroy(handle)


def _check(lib: ctypes.CDLL, handle: int, status: int, warnings_ok: bool = True) -> None:
    """Raise on an error; a warning (corrupt but decodable data) passes, as it does for OpenCV and libjpeg."""
    if status == 0 or (warnings_ok and lib.tjGetErrorCode(handle) == ERR_WARNING):
        return
    raise TurboError(lib.tjGetErrorStr2(handle).decode(errors="replace"))


def _view(data: bytes) -> ctypes._Pointer[c_ubyte]:
    # a read-only view of the bytes: libjpeg never writes to its source buffer
    return ctypes.cast(ctypes.c_char_p(data), POINTER(c_ubyte))


def header(data: bytes) -> JpegHeader:
    values = [c_int() for _ in range(4)]
    with _handle("d") as (lib, handle):
        _check(
            lib, handle, lib.tjDecompressHeader3(handle, _view(data), len(data), *map(byref, values)), False
        )
    return JpegHeader(*(v.value for v in values))


def scaled_size(size: int, factor: tuple[int, int]) -> int:
    """A side decoded at ``factor`` (numerator, denominator), as libjpeg rounds it."""
    return -(-size * factor[0] // factor[1])


def decode_bgr(data: bytes, head: JpegHeader, factor: tuple[int, int] = (1, 1)) -> np.ndarray:
    """Pixels in OpenCV's BGR order (H x W x 3), decoded at ``factor`` (1/8 .. 1, DCT scaling)."""
    width, height = scaled_size(head.width, factor), scaled_size(head.height, factor)
    out = np.empty((height, width, 3), dtype=np.uint8)
    with _handle("d") as (lib, handle):
        status = lib.tjDecompress2(
            handle, _view(data), len(data), out.ctypes.data_as(POINTER(c_ubyte)), width, 0, height, PF_BGR, 0
        )
        _check(lib, handle, status)
    return out


def plane_shapes(width: int, height: int, subsampling: int) -> list[tuple[int, int]]:
    """(rows, columns) of each plane TurboJPEG reads or writes for an image of this size."""
    lib = _library()
    assert lib is not None
    count = 1 if subsampling == SAMP_GRAY else 3
    return [
        (lib.tjPlaneHeight(i, height, subsampling), lib.tjPlaneWidth(i, width, subsampling))
        for i in range(count)
    ]


def decode_planes(data: bytes, head: JpegHeader) -> list[np.ndarray]:
    """The Y (and Cb, Cr) planes as stored: no upsampling, no colour conversion."""
    planes = [
        np.empty(shape, dtype=np.uint8) for shape in plane_shapes(head.width, head.height, head.subsampling)
    ]
    pointers = (POINTER(c_ubyte) * len(planes))(*(p.ctypes.data_as(POINTER(c_ubyte)) for p in planes))
    strides = (c_int * len(planes))(*(p.shape[1] for p in planes))
    with _handle("d") as (lib, handle):
        status = lib.tjDecompressToYUVPlanes(
            handle, _view(data), len(data), pointers, head.width, strides, head.height, 0
        )
        _check(lib, handle, status)
    return planes


def _output(
    lib: ctypes.CDLL, handle: int, status: int, buffer: ctypes._Pointer[c_ubyte], size: c_ulong
) -> bytes:
    """The JPEG libjpeg-turbo wrote (any warning is an error here), its buffer freed either way."""
    try:
        _check(lib, handle, status, warnings_ok=False)
        return ctypes.string_at(buffer, size.value)
    finally:
        if buffer:
            lib.tjFree(buffer)


def encode_planes(
    planes: list[np.ndarray], width: int, height: int, subsampling: int, quality: int, progressive: bool
) -> bytes:
    """A baseline (or progressive) JPEG from planes shaped as :func:`plane_shapes` says."""
    planes = [np.ascontiguousarray(p) for p in planes]
    pointers = (POINTER(c_ubyte) * len(planes))(*(p.ctypes.data_as(POINTER(c_ubyte)) for p in planes))
    strides = (c_int * len(planes))(*(p.shape[1] for p in planes))
    buffer, size = POINTER(c_ubyte)(), c_ulong(0)
    flags = FLAG_PROGRESSIVE if progressive else 0
    with _handle("c") as (lib, handle):
        status = lib.tjCompressFromYUVPlanes(
            handle, pointers, width, strides, height, subsampling, byref(buffer), byref(size), quality, flags
        )
        return _output(lib, handle, status, buffer, size)


def transform(
    data: bytes, op: int, *, crop: tuple[int, int, int, int] | None = None, progressive: bool = False
) -> bytes:
    """A lossless DCT-domain transform with every marker but the image's own dropped (no EXIF, ICC or
    comments). ``op`` is OP_*; it must be perfect (no partial edge blocks moved). ``crop`` is
    (x, y, w, h) in the output, x and y on MCU boundaries. TurboError when libjpeg refuses."""
    options = OPT_PERFECT | OPT_COPYNONE | (OPT_PROGRESSIVE if progressive else 0)
    spec = _Transform(op=op, options=options)
    if crop is not None:
        spec.options |= OPT_CROP
        spec.r = _Region(*crop)
    buffer, size = POINTER(c_ubyte)(), c_ulong(0)
    with _handle("t") as (lib, handle):
        status = lib.tjTransform(
            handle, _view(data), len(data), 1, byref(buffer), byref(size), byref(spec), 0
        )
        return _output(lib, handle, status, buffer, size)
