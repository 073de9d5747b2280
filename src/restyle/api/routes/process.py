"""``POST /v1/process``: run processing actions on an uploaded image, without generation."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request, Response

from restyle.api.deps import AccountDep, ServicesDep
from restyle.api.inputs import read_submission
from restyle.api.processing import chain_from_query
from restyle.api.schemas import ErrorBody
from restyle.errors import InvalidParameter
from restyle.imaging.actions import process_image

router = APIRouter(prefix="/v1/process", tags=["processing"])

_FIELDS = ("actions", "template")
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {"type": "string", "format": "binary"},
                        "actions": {"type": "string", "example": "image/resize,w_256/format,webp"},
                        "template": {"type": "string", "example": "thumbnail"},
                    },
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {"type": "object", "example": {"base64": "iVBORw0..."}},
                        "actions": {"type": "string", "example": "image/rotate,90/format,jpg"},
                        "template": {"type": "string"},
                    },
                }
            },
        },
    }
}


def _text_field(fields: dict[str, Any], name: str) -> str | None:
    value = fields.pop(name, None)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameter(f"Parameter '{name}' must be a string.", param=name)
    return value


@router.post(
    "",
    summary="Process an image with actions",
    response_class=Response,
    openapi_extra=_BODY,
    responses={
        200: {"content": {"image/png": {}, "image/webp": {}, "image/jpeg": {}, "application/json": {}}},
        **{code: {"model": ErrorBody} for code in (400, 401, 404, 413, 415, 429)},
    },
)
async def process(request: Request, services: ServicesDep, account: AccountDep) -> Response:
    """Resize, crop, rotate, re-encode or watermark an image (``actions`` or a named ``template``).

    Counts against the account's submit rate like a task.
    """
    # 1. read and check the request before any costly work
    submission = await read_submission(request, services.settings.server.max_request_bytes)
    fields = dict(submission.fields)
    actions, template = _text_field(fields, "actions"), _text_field(fields, "template")
    if fields:
        name = sorted(fields)[0]
        raise InvalidParameter(
            f"Parameter '{name}' is not known here; send 'image' with 'actions' or 'template'.", param=name
        )
    if submission.style_image is not None:
        raise InvalidParameter("Parameter 'style_image' is not used here; send only 'image'.", param="style_image")
    if submission.image is None or submission.image.data is None:
        raise InvalidParameter(
            "Parameter 'image' is required as a file or base64 (URLs are not fetched here).", param="image"
        )
    chain = chain_from_query(services, actions, template)
    if chain is None:
        raise InvalidParameter(
            "Send 'actions' (e.g. image/resize,w_256) or 'template' (a template name).", param="actions"
        )
    # 2. the account's rate, then the work off the event loop
    services.tasks.limiter.hit(account)
    limits = services.settings.images
    processed = await asyncio.to_thread(
        process_image,
        submission.image.data,
        chain,
        deadline=time.monotonic() + limits.process_deadline_seconds,
        max_output_pixels=limits.max_pixels,
    )
    headers = {"X-Image-Width": str(processed.width), "X-Image-Height": str(processed.height)}
    return Response(processed.data, media_type=processed.media_type, headers=headers)
