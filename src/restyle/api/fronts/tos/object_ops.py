"""Object-level TOS operations: PutObject, GetObject (with x-tos-process and save-as), HeadObject,
DeleteObject."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from email.utils import format_datetime

from fastapi import Response

from restyle.api.fronts.tos.context import TosCall
from restyle.api.fronts.tos.crc64 import crc64
from restyle.api.fronts.tos.errors import json_bytes
from restyle.api.fronts.tos.objects import ObjectMeta, object_exists
from restyle.api.fronts.tos.ranges import byte_range
from restyle.api.processing import derive
from restyle.errors import InvalidParameter, RestyleError
from restyle.imaging.actions import ActionChain, parse_actions
from restyle.imaging.sources import decode_base64

META_PREFIX = "x-tos-meta-"


def meta_headers(call: TosCall, meta: ObjectMeta) -> dict[str, str]:
    """The headers that describe a stored object (HeadObject, GetObject)."""
    headers = {
        **call.headers(),
        "ETag": f'"{meta.etag}"',
        "Last-Modified": format_datetime(meta.modified, usegmt=True),
        "x-tos-hash-crc64ecma": str(meta.crc64),
        "x-tos-storage-class": "STANDARD",
        "x-tos-object-type": "Normal",
        "Content-Type": meta.content_type,
    }
    headers.update({META_PREFIX + name: value for name, value in meta.user_meta.items()})
    return headers


async def read_body(call: TosCall, limit: int) -> bytes:
    """The upload body (plain, chunked or after ``Expect: 100-continue``), refused past ``limit`` bytes."""

    def too_large(size: int) -> RestyleError:
        return InvalidParameter(
            f"The object is {size} bytes or more; the limit is {limit} bytes (tos.max_object_bytes).",
            code="request.too_large",
            status=413,
        )

    declared = call.request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared))  # refused before reading, so no 100 Continue is sent
    chunks: list[bytes] = []
    size = 0
    async for chunk in call.request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(size)
        chunks.append(chunk)
    return b"".join(chunks)


def check_md5(declared: str | None, data: bytes) -> None:
    """A ``Content-MD5`` header (base64 MD5) must match the body (``BadDigest``)."""
    if declared is not None and declared != base64.b64encode(hashlib.md5(data).digest()).decode():
        raise InvalidParameter(
            "Header 'Content-MD5' is not the base64 MD5 of the body; the upload was not stored.",
            code="object.bad_digest",
            param="Content-MD5",
        )


async def put_object(call: TosCall) -> Response:
    if "x-tos-copy-source" in call.request.headers:
        raise RestyleError(
            "CopyObject is not supported by restyle's TOS front; download and upload instead.",
            code="feature.not_supported",
            status=501,
        )
    row = await call.owned(call.bucket)
    forbid_overwrite = call.request.headers.get("x-tos-forbid-overwrite", "").lower() == "true"
    # refused before the body is read; the write below is the atomic check
    if forbid_overwrite and await asyncio.to_thread(call.objects.exists, row, call.target.key):
        raise object_exists(call.target.key)
    data = await read_body(call, call.services.settings.tos.max_object_bytes)
    check_md5(call.request.headers.get("content-md5"), data)
    content_type = call.request.headers.get("content-type") or "application/octet-stream"
    user_meta = {
        name[len(META_PREFIX) :]: value
        for name, value in call.request.headers.items()
        if name.startswith(META_PREFIX)
    }
    row = await call.still_owned(row)  # the bucket may have gone or changed hands while the body arrived
    meta = await asyncio.to_thread(
        call.objects.put, row, call.target.key, data, content_type, user_meta, if_absent=forbid_overwrite
    )
    headers = {**call.headers(), "ETag": f'"{meta.etag}"', "x-tos-hash-crc64ecma": str(meta.crc64)}
    return Response(status_code=200, headers=headers)


async def head_object(call: TosCall) -> Response:
    row = await call.owned(call.bucket)
    meta = await asyncio.to_thread(call.objects.head, row, call.target.key)
    headers = {**meta_headers(call, meta), "Content-Length": str(meta.size)}
    return Response(status_code=200, headers=headers)


async def delete_object(call: TosCall) -> Response:
    row = await call.owned(call.bucket)
    await asyncio.to_thread(call.objects.delete, row, call.target.key)
    return Response(status_code=204, headers=call.headers())


def chain_of(call: TosCall, process: str) -> ActionChain:
    """The action chain of ``x-tos-process``: ``image/...`` actions or ``style/NAME`` (a named template)."""
    if process.startswith("style/"):
        return call.services.templates.get(process[len("style/") :])
    if process.startswith("image/"):
        return parse_actions(process)
    raise InvalidParameter(
        f"Parameter 'x-tos-process' is '{process[:60]}'; restyle processes images only: write "
        "image/ACTION,... or style/NAME.",
        param="x-tos-process",
    )


def decode_name(value: str, param: str) -> str:
    """A URL-safe base64 name (``x-tos-save-bucket`` / ``x-tos-save-object``), padding optional."""
    try:
        return decode_base64(value, param).decode()  # the one base64 reader: URL-safe, padding optional
    except UnicodeDecodeError:
        raise InvalidParameter(
            f"Parameter '{param}' must be the name in URL-safe base64 (UTF-8).", param=param
        ) from None


async def get_object(call: TosCall) -> Response:
    row = await call.owned(call.bucket)
    query = call.request.query_params
    process = query.get("x-tos-process")
    if process is None:
        meta, data = await asyncio.to_thread(call.objects.get, row, call.target.key)
        headers = meta_headers(call, meta)
        headers["Accept-Ranges"] = "bytes"
        span = byte_range(call.request.headers.get("range"), meta.size)
        if span is None:
            return Response(data, headers=headers)
        first, last = span
        headers["Content-Range"] = f"bytes {first}-{last}/{meta.size}"
        return Response(data[first : last + 1], status_code=206, headers=headers)
    # 1. the chain, and the object's record (NoSuchKey before any processing)
    chain = chain_of(call, process)
    await asyncio.to_thread(call.objects.head, row, call.target.key)
    # 2. process (cached beside the object), watermark images read from the same bucket only
    key = call.objects.data_key(row, call.target.key)
    derived = await derive(
        call.services, key, chain, resolve_object=lambda name: call.objects.get(row, name)[1]
    )
    # 3. save-as into a bucket the caller owns, or return the processed bytes
    save_object = query.get("x-tos-save-object")
    if save_object is None:
        headers = {**call.headers(), "x-tos-hash-crc64ecma": str(crc64(derived.data))}
        return Response(derived.data, media_type=derived.media_type, headers=headers)
    bucket_param = query.get("x-tos-save-bucket")
    target = decode_name(bucket_param, "x-tos-save-bucket") if bucket_param else row.name
    key = decode_name(save_object, "x-tos-save-object")
    target_row = await call.owned(target)
    saved = await asyncio.to_thread(call.objects.put, target_row, key, derived.data, derived.media_type, {})
    body = {"bucket": target_row.name, "object": key, "fileSize": saved.size, "status": "OK"}
    return Response(json_bytes(body), media_type="application/json", headers=call.headers())
