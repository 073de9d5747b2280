"""Input images in every shape the fronts receive, as one :class:`~restyle.domain.ImageSource`.

Shapes: raw bytes and multipart files; base64 (bare or as a ``data:<mime>;base64,`` URI, with
whitespace and newlines, standard or URL-safe alphabet, padding optional); http(s) URLs (syntax
checked here, addresses checked by the task service, fetched by the worker); and references into a
list of images, ``uri://binary_data?index=N`` (Volcengine's ``face_image`` into ``binary_data_base64``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from restyle.domain import ImageSource
from restyle.errors import InvalidParameter, ParameterOutOfRange
from restyle.imaging.urlguard import parse_url

_DATA_URI = re.compile(r"data:([^,]*?)(;base64)?,", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_WHITESPACE_CHARS = " \t\r\n\f\v"
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=_\- \t\r\n\f\v]")
_NOT_PADDING = re.compile(r"[^= \t\r\n\f\v]")
_WHITESPACE_BYTES = b" \t\r\n\f\v"
_SKIP = _WHITESPACE_BYTES + b"="  # whitespace and padding, dropped before decoding
_URL_SAFE = bytes.maketrans(b"-_", b"+/")
REFERENCE_PREFIX = "uri://binary_data"


class Upload(Protocol):
    """A multipart file part (Starlette's ``UploadFile`` is one)."""

    async def read(self, size: int = -1) -> bytes: ...


def source_from_bytes(data: bytes) -> ImageSource:
    return ImageSource(data=data)


async def source_from_upload(upload: Upload) -> ImageSource:
    """The bytes of a multipart file part."""
    return ImageSource(data=await upload.read())


def decode_base64(text: str, param: str) -> bytes:
    """Base64 (bare or a ``data:`` URI) -> bytes; :class:`InvalidParameter` naming the first bad character.

    Whitespace is skipped, ``-`` and ``_`` (URL-safe) read as ``+`` and ``/``, and missing ``=``
    padding is supplied; a character outside the alphabet, ``=`` before the end, more than two ``=``,
    or a length no base64 text can have is refused with its position (counting from 1).
    """
    start = 0
    prefix = _DATA_URI.match(text)
    if prefix is not None:
        if not prefix.group(2):
            raise InvalidParameter(
                f"Parameter '{param}' is a data: URI without ';base64'; send data:<type>;base64,<base64>.",
                param=param,
            )
        start = prefix.end()
    # 1. the common case at C speed: ASCII base64, whitespace dropped, missing padding supplied
    try:
        data = text[start:].encode("ascii").translate(None, _WHITESPACE_BYTES)
        if b"-" in data or b"_" in data:
            data = data.translate(_URL_SAFE)
        pads = 2 if data.endswith(b"==") else 1 if data.endswith(b"=") else 0
        if not pads:
            data += b"=" * (-len(data) % 4)
        # the strict decoder lets "QUJD=" and "QUJD===" pass; the diagnosis refuses them
        if not data.endswith(b"===") and len(data) % 4 == 0:
            return binascii.a2b_base64(data, strict_mode=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        pass
    # 2. anything else: find the first bad character and say what is wrong with it
    return _decode_diagnosed(text, start, param)


def _decode_diagnosed(text: str, start: int, param: str) -> bytes:
    """The same decoding, checked step by step (regular expressions, still C speed) to name the problem."""
    # 1. the first character outside the alphabet
    bad = _NOT_BASE64.search(text, start)
    if bad is not None:
        raise _bad(param, text, bad.start(), f"is {bad.group()!r}, which is outside the base64 alphabet")
    # 2. padding: at most two '=', nothing but whitespace after them
    first_pad = text.find("=", start)
    pads = 0
    if first_pad != -1:
        after = _NOT_PADDING.search(text, first_pad)
        if after is not None:
            raise _bad(param, text, first_pad, "is '=' padding, but base64 text follows it")
        pads = text.count("=", first_pad)
        if pads > 2:
            third = text.find("=", text.find("=", first_pad + 1) + 1)
            raise _bad(param, text, third, "is a third '=' padding character (at most two end a base64 text)")
    # 3. the length: 4n+1 characters is never base64; padding must fill the last group of four
    data = text[start:].encode("ascii").translate(None, _SKIP)
    if len(data) % 4 == 1:
        last = len(text.rstrip(_WHITESPACE_CHARS)) - 1
        raise _bad(param, text, last, "is a lone last character (a base64 length is never 4n+1)")
    if pads and (len(data) + pads) % 4:
        raise _bad(param, text, first_pad, "starts padding that does not fill the last group of four")
    # 4. decode, URL-safe characters read as standard ones and missing padding supplied
    try:
        return base64.b64decode(data.translate(_URL_SAFE) + b"=" * (-len(data) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:  # not reached for text that passed the checks above
        raise InvalidParameter(f"Parameter '{param}' is not valid base64 ({exc}).", param=param) from None


def _bad(param: str, text: str, position: int, problem: str) -> InvalidParameter:
    return InvalidParameter(
        f"Parameter '{param}' is not valid base64: character {position + 1} of {len(text)} {problem}.",
        param=param,
        details={"position": position + 1},
    )


def source_from_text(
    text: str, param: str, images: Sequence[str] | None = None, list_param: str = "binary_data_base64"
) -> ImageSource:
    """A string input: an http(s) URL, a ``uri://binary_data?index=N`` reference into ``images``
    (named ``list_param`` in messages), a ``data:`` URI or bare base64."""
    text = text.strip()
    if text.lower().startswith(REFERENCE_PREFIX):
        return source_from_reference(text, images, param=param, list_param=list_param)
    if _SCHEME.match(text):
        return ImageSource(url=str(parse_url(text, param)))
    return ImageSource(data=decode_base64(text, param))


def source_from_json(value: Any, param: str) -> ImageSource | None:
    """A JSON input: a string (see :func:`source_from_text`), ``{"base64": ...}`` or ``{"url": ...}``."""
    if value is None:
        return None
    if isinstance(value, str):
        return source_from_text(value, param)
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("base64"), str):
        return ImageSource(data=decode_base64(value["base64"].strip(), param))
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("url"), str):
        return ImageSource(url=str(parse_url(value["url"].strip(), param)))
    raise InvalidParameter(
        f'Parameter \'{param}\' must be {{"base64": "..."}} or {{"url": "..."}}.', param=param
    )


def source_from_reference(
    reference: str, images: Sequence[str] | None, *, param: str, list_param: str = "binary_data_base64"
) -> ImageSource:
    """The image ``uri://binary_data?index=N`` points to in ``images`` (each base64 or an http(s) URL)."""
    count = len(images or ())
    parts = urlsplit(reference)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    index_text = query.get("index", "")
    well_formed = (
        parts.scheme.lower() == "uri"
        and parts.netloc.lower() == "binary_data"
        and parts.path in ("", "/")
        and set(query) == {"index"}
        and index_text.isascii()
        and index_text.isdigit()
    )
    if not well_formed:
        raise InvalidParameter(
            f"Parameter '{param}' must be {REFERENCE_PREFIX}?index=N, a reference into {list_param} "
            f"({_count(count)}), not '{reference[:80]}'.",
            param=param,
        )
    index = int(index_text)
    if images is None or index >= count:
        valid = f"0 to {count - 1}" if count else "none: send the images in it"
        raise ParameterOutOfRange(
            f"Parameter '{param}' refers to index {index} of {list_param}, which has {_count(count)} "
            f"(valid indexes: {valid}).",
            param=param,
        )
    item = images[index].strip()
    if item.lower().startswith(REFERENCE_PREFIX):
        raise InvalidParameter(
            f"{list_param}[{index}] is itself a reference; the list must hold base64 images or URLs.",
            param=param,
        )
    return source_from_text(item, f"{list_param}[{index}]")


def _count(count: int) -> str:
    return f"{count} image{'' if count == 1 else 's'}"
