"""Recognise an image format from its first bytes (magic numbers), whatever a server claims it is."""

from __future__ import annotations

SNIFF_BYTES = 12  # enough for every signature below
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")


def sniff_image(head: bytes) -> str | None:
    """The format whose signature ``head`` starts with ("jpeg", "png", ...), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"BM"):
        return "bmp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"\x00\x00\x01\x00"):
        return "ico"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "avif" if head[8:12] in (b"avif", b"avis") else "heif"
    return None
