"""``GET /v1/files/{key}``: stored results behind signed, expiring links (no API key needed)."""

from __future__ import annotations

import asyncio
import mimetypes
import time
from typing import Annotated

from fastapi import APIRouter, Query, Response

from restyle.api.deps import ServicesDep
from restyle.api.schemas import ErrorBody
from restyle.storage import validate_key

router = APIRouter(prefix="/v1/files", tags=["files"])


@router.get(
    "/{key:path}",
    summary="Download a file by signed link",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}},
)
async def get_file(
    key: str,
    services: ServicesDep,
    expires: Annotated[int, Query(description="Unix time the link expires")],
    signature: Annotated[str, Query(description="HMAC of key and expiry")],
) -> Response:
    services.signer.verify(validate_key(key), expires, signature)
    data = await asyncio.to_thread(services.storage.get, key)
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    max_age = max(0, min(3600, expires - int(time.time())))  # a cache must not outlive the link
    return Response(data, media_type=media_type, headers={"Cache-Control": f"private, max-age={max_age}"})
