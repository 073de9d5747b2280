"""``POST /?Action=...&Version=...``: the Volcengine visual actions, dispatched by Action and Version.

A synchronous action is a task the front waits for up to ``server.max_wait_seconds``; a task still
running then is answered as an error (50500, HTTP 504, with its ``task_id``) and keeps running.
Unknown query parameters are ignored, as the vendor does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from restyle.api.deps import BaseUrlDep, ServicesDep
from restyle.api.fronts.models import MODELS, translate
from restyle.api.fronts.models.generate import submit
from restyle.api.fronts.openapi import endpoint_for
from restyle.api.fronts.volc.errors import SUCCESS, VolcRoute, envelope, failure_response
from restyle.api.fronts.volc.relabel import labelled_keys
from restyle.api.fronts.volc.results import (
    EXPIRED,
    NOT_FOUND,
    STATUS,
    find_task,
    images,
    is_expired,
    result_data,
    status_data,
)
from restyle.api.services import Services
from restyle.api.signed import verify_signed_request
from restyle.auth.models import AccountRow
from restyle.errors import InvalidParameter, NotFound, RestyleError, UnknownModel
from restyle.requests import parse_bool, parse_logo_info
from restyle.tasks.models import TaskRow

router = APIRouter(tags=["volcengine"], route_class=VolcRoute)

V2022 = "2022-08-31"
V2024 = "2024-06-06"


@dataclass
class Call:
    """One action call: the request, its services and account, and its JSON body."""

    request: Request
    services: Services
    account: AccountRow
    base_url: str
    body: dict[str, Any]


Handler = Callable[[Call], Awaitable[JSONResponse]]


def success(call: Call, data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(envelope(call.request, SUCCESS, "Success", data))


async def process(call: Call) -> JSONResponse:
    """CVProcess / Img2ImgAnimeAcceleratedMaintainID: submit, then wait within the deadline."""
    translated = translate(call.body, call.services.settings)
    row = await submit(call.services, call.account, translated)
    deadline = call.services.settings.server.max_wait_seconds
    row = await call.services.tasks.wait(row.id, call.account.id, deadline)
    if row.status == "SUCCEEDED":
        data = await asyncio.to_thread(result_data, call.services, row, call.base_url, translated.return_url)
        return success(call, data)
    if row.status in ("FAILED", "CANCELED"):
        return failure_response(call.request, row.error_code, row.error_message or "The task failed.")
    message = (
        f"The task '{row.id}' did not finish within {deadline:g} seconds (server.max_wait_seconds); "
        "it keeps running: read it with CVSync2AsyncGetResult."
    )
    return failure_response(call.request, "task.deadline", message, {"task_id": row.id})


async def submit_task(call: Call) -> JSONResponse:
    """CVSync2AsyncSubmitTask / CVSubmitTask: queue the task and answer its id."""
    translated = translate(call.body, call.services.settings)
    row = await submit(call.services, call.account, translated)
    return success(call, {"task_id": row.id})


async def get_result(call: Call) -> JSONResponse:
    """CVSync2AsyncGetResult / CVGetResult: the task's status, with its images once done."""
    task_id = task_id_of(call.body)
    options = req_json(call.body)
    return_url = parse_bool("req_json.return_url", options.get("return_url", False))
    logo_info = None if options.get("logo_info") is None else parse_logo_info(options["logo_info"])
    row = await asyncio.to_thread(find_task, call.services, task_id, call.account.id)
    if row is None:
        return success(call, status_data(task_id, NOT_FOUND))
    if is_expired(row):
        return success(call, status_data(task_id, EXPIRED))
    status = STATUS[row.status]
    if row.status in ("FAILED", "CANCELED"):
        message = row.error_message or "The task failed."
        return failure_response(call.request, row.error_code, message, status_data(task_id, status))
    data = status_data(task_id, status)
    if row.status == "SUCCEEDED":
        keys = await asyncio.to_thread(labelled_keys, call.services, row, logo_info)
        data.update(await asyncio.to_thread(images, call.services, row, call.base_url, return_url, keys))
    return success(call, data)


async def cancel_task(call: Call) -> JSONResponse:
    """CVCancelTask: a queued task is canceled now, a running one at its next step."""
    task_id = task_id_of(call.body)
    row = await asyncio.to_thread(find_task, call.services, task_id, call.account.id)
    if row is None:
        raise NotFound(
            f"Task '{task_id}' does not exist or has expired.", code="task.not_found", param="task_id"
        )
    canceled: TaskRow = await asyncio.to_thread(call.services.tasks.cancel, task_id, call.account.id)
    status = "canceled" if canceled.status == "CANCELED" else "canceling"  # a running one stops soon
    return success(call, {"task_id": task_id, "status": status})


ACTIONS: dict[str, tuple[str, Handler]] = {
    "CVProcess": (V2022, process),
    "Img2ImgAnimeAcceleratedMaintainID": (V2022, process),
    "CVSync2AsyncSubmitTask": (V2022, submit_task),
    "CVSync2AsyncGetResult": (V2022, get_result),
    "CVSubmitTask": (V2022, submit_task),
    "CVGetResult": (V2022, get_result),
    "CVCancelTask": (V2024, cancel_task),
}


def task_id_of(body: dict[str, Any]) -> str:
    """``task_id`` (and a known ``req_key`` when one is sent)."""
    req_key = body.get("req_key")
    if req_key is not None and req_key not in MODELS:
        known = ", ".join(sorted(MODELS))
        raise UnknownModel(
            f"Parameter 'req_key' is {req_key!r}; this server serves: {known}.", param="req_key"
        )
    task_id = body.get("task_id")
    if not isinstance(task_id, str) or not 0 < len(task_id) <= 64:
        raise InvalidParameter(
            "Parameter 'task_id' is required: the id the submit answered.", param="task_id"
        )
    return task_id


def req_json(body: dict[str, Any]) -> dict[str, Any]:
    """``req_json``: a JSON string (as the SDK sends it) or an object; {} when absent."""
    value = body.get("req_json")
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise InvalidParameter(
            "Parameter 'req_json' must be a JSON object (or its text) such as {\"return_url\": true}.",
            param="req_json",
        )
    return value


def pick(action: str | None, version: str | None) -> Handler:
    """The handler of ``Action`` at ``Version``; an unknown one is refused naming what exists."""
    if not action or action not in ACTIONS:
        known = ", ".join(sorted(ACTIONS))
        raise RestyleError(
            f"Query parameter 'Action' is {action!r}; this endpoint serves: {known}.",
            code="action.unknown",
            status=404,
            param="Action",
        )
    expected, handler = ACTIONS[action]
    if version != expected:
        raise RestyleError(
            f"Query parameter 'Version' is {version!r}; Action {action} is served at Version {expected}.",
            code="action.unknown",
            status=404,
            param="Version",
        )
    return handler


@router.post("/", summary="Volcengine visual actions (?Action=...&Version=...)")
async def dispatch(
    request: Request,
    services: ServicesDep,
    base_url: BaseUrlDep,
    action: Annotated[str | None, Query(alias="Action")] = None,
    version: Annotated[str | None, Query(alias="Version")] = None,
) -> Response:
    """Run ``Action`` (CVProcess, Img2ImgAnimeAcceleratedMaintainID, CVSync2AsyncSubmitTask,
    CVSync2AsyncGetResult, CVSubmitTask, CVGetResult at 2022-08-31; CVCancelTask at 2024-06-06)
    with the JSON body the Volcengine SDK sends; signed with HMAC-SHA256 (service ``cv``). An Action
    another front registered (veImageX's GetCVImageGenerateResult) is handed to that front."""
    other_front = endpoint_for(action)
    if other_front is not None:
        return await other_front(request)
    account = await verify_signed_request(request, scheme="volc", service="cv", keys=services.keys)
    handler = pick(action, version)
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise InvalidParameter("The request body is not valid JSON.", code="request.invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidParameter("The request body must be a JSON object.", code="request.invalid_json")
    return await handler(Call(request, services, account, base_url, body))
