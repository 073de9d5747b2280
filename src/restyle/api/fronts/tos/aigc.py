"""The bucket-level ``GET /?x-tos-process=aigc/image_to_image`` of seed [003]: image processing around
a Volcengine image-to-image model, the result saved into a bucket.

Steps: 1. the request body and the buckets (the source is the request's bucket, the target
``OutputProcessing.Bucket``; both the caller's, ``ForbiddenOverwrite`` checked before any work);
2. the input image (``ImageUri``: an object of the request's bucket, processed by ``InputProcessing``;
or an http(s) URL the worker fetches, which cannot be pre-processed); 3. the model body
(``ModelConfig``, with ``Prompt`` and the image filled in) run as a task within the deadline;
4. ``OutputProcessing`` applied and the result saved; 5. ``{"resp_json": <model response>}``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

from fastapi import Response

from restyle.api.fronts.models import model_body, translate
from restyle.api.fronts.models.generate import generate, model_response
from restyle.api.fronts.models.req_keys import ANIME, XL_SFT
from restyle.api.fronts.tos.context import TosCall
from restyle.api.fronts.tos.errors import json_bytes
from restyle.api.fronts.tos.objects import object_exists
from restyle.errors import InvalidParameter
from restyle.imaging.actions import ActionChain, parse_actions, process_image
from restyle.imaging.sniff import sniff_image
from restyle.requests import parse_bool
from restyle.storage.buckets import BucketRow

TASK_TYPE = "image_to_image"
PROMPT_FIELD = {ANIME: "positive_prompt"}  # the model field InputDataSource.Prompt fills ("prompt" otherwise)


def _section(body: dict[str, Any], name: str, required: bool) -> dict[str, Any]:
    value = body.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InvalidParameter(f"Parameter '{name}' must be a JSON object.", param=name)
    return value


def _text(section: dict[str, Any], parent: str, name: str, required: bool) -> str:
    value = section.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidParameter(f"Parameter '{parent}.{name}' must be a non-empty string.", param=name)
    return value


def _parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise InvalidParameter("The request body is not valid JSON.", code="request.invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidParameter("The request body must be a JSON object.", code="request.invalid_json")
    if body.get("TaskType") != TASK_TYPE:  # required by the seed
        raise InvalidParameter(
            f"Parameter 'TaskType' is {body.get('TaskType')!r}; aigc/image_to_image requires "
            f"'{TASK_TYPE}'.",
            param="TaskType",
        )
    return body


def _chains(call: TosCall, section: dict[str, Any], parent: str) -> list[ActionChain]:
    """The processing a section asks for: its ``ProcessStyle`` (a named template), then its
    ``ProcessActions`` (``image/...``)."""
    chains = []
    style = _text(section, parent, "ProcessStyle", required=False)
    if style:
        chains.append(call.services.templates.get(style))
    actions = _text(section, parent, "ProcessActions", required=False)
    if actions:
        if not actions.startswith("image/"):
            raise InvalidParameter(
                f"Parameter '{parent}.ProcessActions' must be image processing such as 'image/resize,w_512'.",
                param="ProcessActions",
            )
        chains.append(parse_actions(actions))
    return chains


def _process(call: TosCall, data: bytes, chains: list[ActionChain], bucket: BucketRow) -> tuple[bytes, str]:
    """``data`` through ``chains`` (watermark images read from ``bucket``): the bytes and media type."""
    kind = sniff_image(data[:64])
    media_type = f"image/{kind}" if kind else "application/octet-stream"
    limits = call.services.settings.images
    deadline = time.monotonic() + limits.process_deadline_seconds
    for chain in chains:
        processed = process_image(
            data,
            chain,
            deadline=deadline,
            max_output_pixels=limits.max_pixels,
            resolve_object=lambda name: call.objects.get(bucket, name)[1],
        )
        data, media_type = processed.data, processed.media_type
    return data, media_type


async def _image_input(
    call: TosCall, source: dict[str, Any], bucket: BucketRow, chains: list[ActionChain]
) -> Any:
    uri = _text(source, "InputDataSource", "ImageUri", required=True)
    if uri.startswith(("http://", "https://")):
        if chains:
            raise InvalidParameter(
                "Parameter 'InputProcessing' applies to an object of the bucket; with an http(s) "
                "'InputDataSource.ImageUri' leave it out.",
                param="InputProcessing",
            )
        return {"image_urls": [uri]}
    _, data = await asyncio.to_thread(call.objects.get, bucket, uri)
    data, _ = await asyncio.to_thread(_process, call, data, chains, bucket)
    return {"binary_data_base64": [base64.b64encode(data).decode("ascii")]}


async def _check_free(call: TosCall, bucket: BucketRow, key: str, forbidden: bool) -> None:
    """Refuse early (before any generation) a name ForbiddenOverwrite protects; the save is the
    atomic check."""
    if forbidden and await asyncio.to_thread(call.objects.exists, bucket, key):
        raise object_exists(key)


def _req_json(config: dict[str, Any]) -> Any:
    """``ModelConfig.ReqJson``: an object, or its JSON text (the seed types it as a string)."""
    value = config.get("ReqJson")
    if isinstance(value, str) and value.strip():
        try:
            return json.loads(value)
        except ValueError:
            raise InvalidParameter(
                "Parameter 'ModelConfig.ReqJson' is not valid JSON.", param="ReqJson"
            ) from None
    return value


async def image_to_image(call: TosCall) -> Response:
    """``aigc/image_to_image``: generate from an image of this bucket, save into a bucket."""
    # 1. the body and the buckets
    body = _parse_body(await call.request.body())
    source = _section(body, "InputDataSource", required=True)
    output = _section(body, "OutputProcessing", required=True)
    config = _section(body, "ModelConfig", required=True)  # its fields are optional, it is not
    row = await call.owned(call.bucket)
    target = await call.owned(_text(output, "OutputProcessing", "Bucket", required=True))
    key = _text(output, "OutputProcessing", "Object", required=True)
    forbidden = parse_bool("OutputProcessing.ForbiddenOverwrite", output.get("ForbiddenOverwrite", False))
    await _check_free(call, target, key, forbidden)
    input_chains = _chains(call, _section(body, "InputProcessing", required=False), "InputProcessing")
    output_chains = _chains(call, output, "OutputProcessing")
    # 2.-3. the model body: ReqJson, the prompt and the (processed) input image
    model = model_body(
        config.get("ModelAction"), config.get("ModelVersion"), _req_json(config), "ModelConfig."
    )
    model.setdefault("req_key", XL_SFT)
    model[PROMPT_FIELD.get(model["req_key"], "prompt")] = _text(source, "InputDataSource", "Prompt", True)
    model.pop("binary_data_base64", None)
    model.pop("image_urls", None)
    model.update(await _image_input(call, source, row, input_chains))
    translated = translate(model, call.services.settings, front="tos")
    generated = await generate(call.services, call.account, translated)
    # 4. the output, processed and saved
    data, media_type = await asyncio.to_thread(_process, call, generated.image, output_chains, target)
    target = await call.still_owned(target)  # the same bucket, still the caller's, after the generation
    await asyncio.to_thread(call.objects.put, target, key, data, media_type, {}, if_absent=forbidden)
    # 5. the model's response
    answer = {"resp_json": model_response(generated, translated.req_key)}
    return Response(json_bytes(answer), media_type="application/json", headers=call.headers())
