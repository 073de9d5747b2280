"""Put an XMP packet into, and take it out of, PNG, JPEG and WebP files by byte-level insertion (no re-encode)."""

from __future__ import annotations

import struct
import zlib

from restyle.errors import LabelContainerError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
WEBP_XMP_FLAG = 0x04
WEBP_ALPHA_FLAG = 0x10


def container_of(data: bytes) -> str | None:
    """``png``, ``jpeg`` or ``webp`` from the file's magic bytes; None for anything else."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def insert_xmp(data: bytes, packet: bytes) -> bytes:
    """``data`` with ``packet`` as its only XMP (an older XMP packet is replaced)."""
    kind = container_of(data)
    if kind == "png":
        return _png_insert(data, packet)
    if kind == "jpeg":
        return _jpeg_insert(data, packet)
    if kind == "webp":
        return _webp_insert(data, packet)
    raise LabelContainerError("The metadata label can only be written into PNG, JPEG and WebP files.")


def extract_xmp(data: bytes) -> bytes | None:
    """The file's XMP packet, or None when it has none (or is not PNG, JPEG or WebP)."""
    try:
        kind = container_of(data)
        if kind == "png":
            return _png_extract(data)
        if kind == "jpeg":
            return _jpeg_extract(data)
        if kind == "webp":
            return _webp_extract(data)
    except (IndexError, struct.error):
        return None
    return None


def _broken(kind: str) -> LabelContainerError:
    return LabelContainerError(
        f"The {kind} file is malformed, so the metadata label cannot be written into it."
    )


# --- PNG: an iTXt chunk right after IHDR -----------------------------------------------------------


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks: list[tuple[bytes, bytes]] = []
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length:
            raise _broken("PNG")
        chunks.append((kind, body))
        pos += 12 + length
        if kind == b"IEND":
            break
    return chunks


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def _is_png_xmp(kind: bytes, body: bytes) -> bool:
    return kind == b"iTXt" and body.startswith(PNG_XMP_KEYWORD + b"\x00")


def _png_insert(data: bytes, packet: bytes) -> bytes:
    chunks = _png_chunks(data)
    if not chunks or chunks[0][0] != b"IHDR":
        raise _broken("PNG")
    # keyword, NUL, compression flag 0, method 0, empty language tag, empty translated keyword, text
    itxt = _png_chunk(b"iTXt", PNG_XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + packet)
    out = [PNG_SIGNATURE, _png_chunk(*chunks[0]), itxt]
    out.extend(_png_chunk(kind, body) for kind, body in chunks[1:] if not _is_png_xmp(kind, body))
    return b"".join(out)


def _png_extract(data: bytes) -> bytes | None:
    for kind, body in _png_chunks(data):
        if _is_png_xmp(kind, body):
            rest = body[len(PNG_XMP_KEYWORD) + 1 :]
            compressed = rest[0] == 1
            rest = rest[2:]
            rest = rest[rest.index(b"\x00") + 1 :]  # language tag
            rest = rest[rest.index(b"\x00") + 1 :]  # translated keyword
            return zlib.decompress(rest) if compressed else rest
    return None


# --- JPEG: an APP1 segment after APP0 (JFIF) and any APP1 EXIF ------------------------------------


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """Marker segments before the first SOS (marker, body without length) and the offset of that SOS."""
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise _broken("JPEG")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or marker == 0xD9:
            return segments, pos
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise _broken("JPEG")
        segments.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    raise _broken("JPEG")


def _jpeg_insert(data: bytes, packet: bytes) -> bytes:
    body = JPEG_XMP_HEADER + packet
    if len(body) + 2 > 0xFFFF:
        raise LabelContainerError("The metadata label is too large for one JPEG APP1 segment (64 KB).")
    segments, sos = _jpeg_segments(data)
    kept = [(m, b) for m, b in segments if not (m == 0xE1 and b.startswith(JPEG_XMP_HEADER))]
    at = 0
    while at < len(kept) and (
        kept[at][0] == 0xE0 or (kept[at][0] == 0xE1 and kept[at][1].startswith(b"Exif\x00"))
    ):
        at += 1
    kept.insert(at, (0xE1, body))
    head = b"".join(b"\xff" + bytes([m]) + struct.pack(">H", len(b) + 2) + b for m, b in kept)
    return data[:2] + head + data[sos:]


def _jpeg_extract(data: bytes) -> bytes | None:
    segments, _ = _jpeg_segments(data)
    for marker, body in segments:
        if marker == 0xE1 and body.startswith(JPEG_XMP_HEADER):
            return body[len(JPEG_XMP_HEADER) :]
    return None


# --- WebP: the extended format (VP8X) with an "XMP " chunk at the end ------------------------------


def _webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks: list[tuple[bytes, bytes]] = []
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = min(len(data), 8 + riff_size)
    pos = 12
    while pos + 8 <= end:
        kind = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body = data[pos + 8 : pos + 8 + size]
        if len(body) != size:
            raise _broken("WebP")
        chunks.append((kind, body))
        pos += 8 + size + (size & 1)
    return chunks


def _webp_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def _webp_canvas(kind: bytes, body: bytes) -> tuple[int, int, bool]:
    """Width, height and whether there is alpha, from a simple file's VP8 or VP8L bitstream."""
    if kind == b"VP8 " and body[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if kind == b"VP8L" and body[:1] == b"\x2f":
        (bits,) = struct.unpack("<I", body[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise _broken("WebP")


def _webp_insert(data: bytes, packet: bytes) -> bytes:
    chunks = [(k, b) for k, b in _webp_chunks(data) if k != b"XMP "]
    if not chunks:
        raise _broken("WebP")
    if chunks[0][0] == b"VP8X":
        header = bytearray(chunks[0][1])
        header[0] |= WEBP_XMP_FLAG
        chunks[0] = (b"VP8X", bytes(header))
    else:
        # 1. a simple file: one VP8 or VP8L chunk; 2. add a VP8X header naming the canvas and the flags
        width, height, alpha = _webp_canvas(*chunks[0])
        flags = WEBP_XMP_FLAG | (WEBP_ALPHA_FLAG if alpha else 0)
        vp8x = (
            bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        )
        chunks.insert(0, (b"VP8X", vp8x))
    chunks.append((b"XMP ", packet))
    body = b"WEBP" + b"".join(_webp_chunk(k, b) for k, b in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _webp_extract(data: bytes) -> bytes | None:
    for kind, body in _webp_chunks(data):
        if kind == b"XMP ":
            return body
    return None
