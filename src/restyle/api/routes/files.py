"""``GET /v1/files/{key}``: stored files behind signed, expiring links (no API key needed).

``?x-process=image/resize,w_256/format,webp`` or ``?x-template=NAME`` returns the file processed by
that action chain (cached in storage beside the file and removed with it).
"""

from __future__ import annotations

import asyncio
import mimetypes
import time
from typing import Annotated

from fastapi import APIRouter, Query, Response

from restyle.api.deps import ServicesDep
from restyle.api.processing import chain_from_query, derive
from restyle.api.schemas import ErrorBody
from restyle.storage import validate_key

router = APIRouter(prefix="/v1/files", tags=["files"])
for _media_type, _extension in (("image/avif", ".avif"), ("image/heic", ".heic"), ("image/webp", ".webp")):
    mimetypes.add_type(_media_type, _extension)  # not in every system's MIME table


@router.get(
    "/{key:path}",
    summary="Download a file by signed link, optionally processed",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}, "image/webp": {}, "image/jpeg": {}, "application/json": {}}},
        400: {"model": ErrorBody},
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        413: {"model": ErrorBody},
    },
)
async def get_file(
    key: str,
    services: ServicesDep,
    expires: Annotated[int, Query(description="Unix time the link expires")],
    signature: Annotated[str, Query(description="HMAC of key and expiry")],
    x_process: Annotated[
        str | None, Query(alias="x-process", description="Actions, e.g. image/resize,w_256/format,webp")
    ] = None,
    x_template: Annotated[str | None, Query(alias="x-template", description="A named template")] = None,
) -> Response:
    services.signer.verify(validate_key(key), expires, signature)
    max_age = max(0, min(3600, expires - int(time.time())))  # a cache must not outlive the link
    headers = {"Cache-Control": f"private, max-age={max_age}"}
    chain = chain_from_query(services, x_process, x_template)
    if chain is None:
        data = await asyncio.to_thread(services.storage.get, key)
        media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        return Response(data, media_type=media_type, headers=headers)
    derived = await derive(services, key, chain)  # a link opens one file: watermarks naming others are refused
    headers["X-Restyle-Cache"] = "hit" if derived.cached else "miss"
    return Response(derived.data, media_type=derived.media_type, headers=headers)
