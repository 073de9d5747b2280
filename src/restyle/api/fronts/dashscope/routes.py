"""DashScope's async task API for wanx-style-repaint-v1: submit, read and cancel a task.

Unknown query parameters are ignored here, as DashScope does (its SDKs may add some); the native
API's strict-query dependency is not applied to this router.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from restyle.api.deps import AccountDep, BaseUrlDep, ServicesDep
from restyle.api.errors import request_id
from restyle.api.fronts.dashscope.errors import DashScopeRoute, failure_code, vendor_message
from restyle.api.fronts.dashscope.schemas import (
    ERROR_EXAMPLE,
    SUBMIT_EXAMPLE,
    SUBMIT_OPENAPI,
    parse_request,
    submit_body,
    task_body,
    unknown_body,
)
from restyle.api.fronts.dashscope.translate import FRONT, style_index_of, to_submission
from restyle.api.services import Services
from restyle.errors import AsyncCallRequired, Conflict, InvalidParameter, NotFound
from restyle.tasks.db import utcnow
from restyle.tasks.models import TaskRow

router = APIRouter(prefix="/api/v1", tags=["dashscope"], route_class=DashScopeRoute)

MAX_BODY_BYTES = 64 * 1024  # a submit carries two URLs and an index
_WORKSPACE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

AsyncHeader = Annotated[str | None, Header(alias="X-DashScope-Async", description="Must be 'enable'.")]
WorkspaceHeader = Annotated[
    str | None,
    Header(
        alias="X-DashScope-WorkSpace",
        description="Accepted and checked; tasks belong to the API key's account.",
    ),
]
IdempotencyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="A repeated submit with this key returns the first task."),
]


def check_workspace(workspace: str | None) -> None:
    """A workspace id is accepted when well formed; restyle scopes tasks by account, not workspace."""
    if workspace is not None and not _WORKSPACE.match(workspace):
        raise InvalidParameter(
            "Header 'X-DashScope-WorkSpace' must be 1 to 64 letters, digits, '_' or '-'.",
            param="X-DashScope-WorkSpace",
        )


async def read_body(request: Request) -> bytes:
    """The request body, refused past :data:`MAX_BODY_BYTES` without reading it all."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise InvalidParameter(
                f"The request body is over {MAX_BODY_BYTES} bytes; send image URLs, not image data.",
                code="request.too_large",
                status=413,
            )
        chunks.append(chunk)
    return b"".join(chunks)


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": "Refused: {request_id, code, message}.",
        "content": {"application/json": {"example": ERROR_EXAMPLE}},
    }
    for status in (400, 401, 403, 404, 429)
}


@router.post(
    "/services/aigc/image-generation/generation",
    summary="Submit a wanx-style-repaint-v1 task",
    openapi_extra=SUBMIT_OPENAPI,
    responses={200: {"content": {"application/json": {"example": SUBMIT_EXAMPLE}}}, **_ERRORS},
)
async def submit_task(
    request: Request,
    services: ServicesDep,
    account: AccountDep,
    dashscope_async: AsyncHeader = None,
    workspace: WorkspaceHeader = None,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    """Queue a restyle of ``input.image_url`` in preset ``input.style_index`` (0..9), or in the style of
    ``input.style_ref_url`` (index -1); answers the task id with ``task_status`` PENDING."""
    # 1. the calling convention: asynchronous only
    if (dashscope_async or "").strip().lower() != "enable":
        raise AsyncCallRequired(
            "This model is called asynchronously only: send header 'X-DashScope-Async: enable'.",
            param="X-DashScope-Async",
        )
    check_workspace(workspace)
    # 2. the body in restyle's terms, then the shared submit (limits, address checks, the row)
    submission = to_submission(
        parse_request(await read_body(request)), idempotency_key, services.tasks.resolve_style
    )
    row, _created = await asyncio.to_thread(services.tasks.submit, account, submission)
    return JSONResponse(submit_body(row, request_id(request)))


@router.get("/tasks/{task_id}", summary="Get a task", responses=_ERRORS)
async def get_task(
    task_id: str,
    request: Request,
    services: ServicesDep,
    account: AccountDep,
    base_url: BaseUrlDep,
    workspace: WorkspaceHeader = None,
) -> JSONResponse:
    """The task's status; ``UNKNOWN`` (HTTP 200) for a task that is missing, another account's, or
    expired; a SUCCEEDED task's ``results`` are signed links that end when the task expires."""
    check_workspace(workspace)
    row = await asyncio.to_thread(visible_task, services, task_id, account.id)
    if row is None:
        return JSONResponse(unknown_body(task_id, request_id(request)))
    return JSONResponse(present(services, row, base_url, request_id(request)))


@router.post("/tasks/{task_id}/cancel", summary="Cancel a PENDING task", responses=_ERRORS)
async def cancel_task(
    task_id: str,
    request: Request,
    services: ServicesDep,
    account: AccountDep,
    workspace: WorkspaceHeader = None,
) -> JSONResponse:
    """Cancel a task that has not started; a started or finished task is refused (UnsupportedOperation)."""
    check_workspace(workspace)
    row = await asyncio.to_thread(visible_task, services, task_id, account.id)
    if row is None:
        raise NotFound(f"Task '{task_id}' does not exist or has expired.", code="task.not_found")
    if row.status != "PENDING":
        raise Conflict(f"Task '{task_id}' is {row.status}; only a PENDING task can be canceled.")
    await asyncio.to_thread(services.tasks.cancel, task_id, account.id)
    return JSONResponse({"request_id": request_id(request)})


def visible_task(services: Services, task_id: str, account_id: str) -> TaskRow | None:
    """The account's DashScope task while it is kept, else None (what the vendor calls UNKNOWN)."""
    row = services.tasks.find(task_id, account_id, (FRONT,))
    return None if row is None or row.expires_at <= utcnow() else row


def present(services: Services, row: TaskRow, base_url: str, request_id_value: str) -> dict[str, Any]:
    urls: list[str] = []
    if row.status == "SUCCEEDED":
        urls = [services.signer.task_url(base_url, key, row.expires_at) for key in row.result_keys]
    failure = None
    if row.status == "FAILED":
        code = failure_code(row.error_code)
        failure = (code, vendor_message(code, row.error_message or "The task failed."))
    return task_body(
        row,
        request_id_value,
        result_urls=urls,
        style_index=style_index_of(row, services.tasks.resolve_style),
        failure=failure,
    )
