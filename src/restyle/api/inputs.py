"""Read a submit request body (multipart/form-data or JSON) into a :class:`Submission`.

Inputs may be files (multipart), base64 strings (``{"base64": ...}``, a bare string or a
``data:`` URI) or URLs (``{"url": ...}``), read by :mod:`restyle.imaging.sources`; everything else is a
parameter by its native name.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from restyle.errors import InvalidParameter, ParameterOutOfRange
from restyle.imaging.sources import source_from_json, source_from_text, source_from_upload
from restyle.tasks.service import Submission

IMAGE_FIELDS = ("image", "style_image")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


async def _read_form(request: Request, submission: Submission, max_bytes: int) -> None:
    try:
        form = await request.form(max_files=2, max_fields=100, max_part_size=max_bytes)
    except StarletteHTTPException as exc:  # Starlette's own multipart limits and syntax errors
        raise InvalidParameter(
            f"The multipart body cannot be read: {str(exc.detail).rstrip('.')}. Send at most the two files 'image' and "
            "'style_image' and at most 100 fields.",
            code="request.invalid_form",
        ) from None
    fields: dict[str, Any] = {}
    for name, value in form.multi_items():
        if name in fields or (name in IMAGE_FIELDS and getattr(submission, name) is not None):
            raise InvalidParameter(f"Parameter '{name}' was sent more than once.", param=name)
        if isinstance(value, UploadFile):
            if name not in IMAGE_FIELDS:
                raise InvalidParameter(
                    f"File field '{name}' is not known; send the photo as 'image' and a style reference "
                    "as 'style_image'.",
                    param=name,
                )
            setattr(submission, name, await source_from_upload(value))
        elif name in IMAGE_FIELDS:
            setattr(submission, name, source_from_text(value, name))
        else:
            fields[name] = value
    submission.fields = fields


async def _read_json(request: Request, submission: Submission) -> None:
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError) as exc:  # bad syntax, bad UTF-8, a 5000-digit number, deep nesting
        why = "it nests too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidParameter(
            f"The request body is not valid JSON ({why}).", code="request.invalid_json"
        ) from None
    if not isinstance(body, dict):
        raise InvalidParameter("The request body must be a JSON object.", code="request.invalid_json")
    submission.image = source_from_json(body.pop("image", None), "image")
    submission.style_image = source_from_json(body.pop("style_image", None), "style_image")
    submission.fields = body


def _too_large(size: str, max_bytes: int) -> InvalidParameter:
    return InvalidParameter(
        f"The request body is {size} bytes; the limit is {max_bytes} bytes (server.max_request_bytes).",
        code="request.too_large",
        status=413,
    )


async def read_limited_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, refused as soon as it passes ``max_bytes`` (with or without Content-Length).

    The body is cached on the request, so ``request.form()`` and ``request.body()`` read it from there.
    """
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise _too_large(length, max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(f"more than {max_bytes}", max_bytes)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # Starlette's cache of the body, read by form() and body()
    return body


async def read_submission(request: Request, max_bytes: int) -> Submission:
    """The submission in the body; ``callback_url`` and ``wait`` stay in ``fields`` for the caller."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in FORM_TYPES or content_type == "application/json" or content_type.endswith("+json"):
        await read_limited_body(request, max_bytes)
    submission = Submission()
    if content_type in FORM_TYPES:
        await _read_form(request, submission, max_bytes)
    elif content_type == "application/json" or content_type.endswith("+json"):
        await _read_json(request, submission)
    else:
        raise InvalidParameter(
            "Send the task as multipart/form-data (files) or application/json (base64 or URLs).",
            code="request.content_type",
            status=415,
        )
    return submission


def pop_wait(fields: dict[str, Any], query_wait: float | None, max_wait: float) -> float | None:
    """The ``wait`` seconds from the query or a field, within 0..max_wait; None when not given."""
    raw = fields.pop("wait", None)
    value: Any = query_wait if query_wait is not None else raw
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidParameter(
            f"Parameter 'wait' must be a number of seconds, not '{value}'.", param="wait"
        ) from None
    if not 0 <= seconds <= max_wait:  # NaN fails this too
        raise ParameterOutOfRange(
            f"Parameter 'wait' is {value}; it must be between 0 and {max_wait:g} seconds.", param="wait"
        )
    return seconds


def parse_prefer(header: str | None) -> tuple[bool, float | None]:
    """(respond-async, wait seconds) from an RFC 7240 ``Prefer`` header."""
    respond_async, wait = False, None
    for token in (header or "").split(","):
        name, _, value = token.strip().partition("=")
        if name.lower() == "respond-async":
            respond_async = True
        elif name.lower() == "wait":
            with contextlib.suppress(ValueError):
                wait = float(value)
    return respond_async, wait


def pop_callback(fields: dict[str, Any]) -> str | None:
    """The ``callback_url`` field, a string when given (checked further by the task service)."""
    value = fields.pop("callback_url", None)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidParameter(
            "Parameter 'callback_url' must be an http:// or https:// URL string.", param="callback_url"
        )
    return value
