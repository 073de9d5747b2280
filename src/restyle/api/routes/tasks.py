"""``/v1/tasks``: submit, read, list, cancel and delete tasks."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from restyle.api.deps import AccountDep, BaseUrlDep, ServicesDep
from restyle.api.inputs import parse_prefer, pop_callback, pop_wait, read_submission
from restyle.api.schemas import ErrorBody, TaskList, TaskPublic, present_task, task_json, task_response
from restyle.domain import TaskStatus
from restyle.errors import InvalidParameter

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 409, 413, 415, 429, 501, 503)
}
_IMAGE = {"type": "string", "format": "binary", "description": "The face photo (JPEG, PNG, WebP...)."}
_SUBMIT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": _IMAGE,
                        "style_image": {**_IMAGE, "description": "Optional style reference image."},
                        "style": {"type": "string", "example": "anime"},
                        "callback_url": {"type": "string"},
                        "wait": {"type": "number"},
                    },
                    "additionalProperties": {"type": "string"},
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {"type": "object", "example": {"base64": "iVBORw0..."}},
                        "style_image": {"type": "object", "example": {"url": "https://..."}},
                        "style": {"type": "string", "example": "anime"},
                        "callback_url": {"type": "string"},
                        "wait": {"type": "number"},
                    },
                    "additionalProperties": True,
                }
            },
        },
    }
}


@router.post(
    "",
    response_model=TaskPublic,
    responses={202: {"model": TaskPublic, "description": "Accepted; not finished yet."}, **_ERRORS},
    openapi_extra=_SUBMIT_BODY,
    summary="Submit a task",
)
async def create_task(
    request: Request,
    services: ServicesDep,
    account: AccountDep,
    base_url: BaseUrlDep,
    prefer: Annotated[str | None, Header(description="respond-async, or wait=N")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    wait: Annotated[float | None, Query(description="Seconds to wait for the result.")] = None,
) -> Response:
    """Restyle a photo. Waits for the result up to ``wait`` seconds unless ``Prefer: respond-async``;
    answers 200 with a finished task or 202 with a task still PENDING or RUNNING."""
    settings = services.settings.server
    submission = await read_submission(request, settings.max_request_bytes)
    fields = dict(submission.fields)
    wait_seconds = pop_wait(fields, wait, settings.max_wait_seconds)
    submission.callback_url = pop_callback(fields)
    submission.fields, submission.idempotency_key = fields, idempotency_key
    respond_async, prefer_wait = parse_prefer(prefer)
    if wait_seconds is None:
        wait_seconds = min(
            prefer_wait if prefer_wait is not None else settings.default_wait_seconds,
            settings.max_wait_seconds,
        )
    if respond_async:
        wait_seconds = 0.0

    row, created, position = await asyncio.to_thread(services.tasks.submit_counted, account, submission)
    if not created:
        position = await asyncio.to_thread(services.store.queue_position, row)
    if wait_seconds > 0 and not row.task_status.is_final:
        row = await services.tasks.wait(row.id, account.id, wait_seconds)
        position = await asyncio.to_thread(services.store.queue_position, row)
    headers = {"Location": f"/v1/tasks/{row.id}"}
    if respond_async:
        headers["Preference-Applied"] = "respond-async"
    if not created:
        headers["Idempotent-Replayed"] = "true"
    status_code = 200 if row.task_status.is_final else 202
    return task_response(services, row, base_url, position, status_code, headers)


@router.get("", response_model=TaskList, responses=_ERRORS, summary="List tasks")
def list_tasks(
    services: ServicesDep,
    account: AccountDep,
    base_url: BaseUrlDep,
    status: Annotated[
        str | None, Query(description="PENDING, RUNNING, SUCCEEDED, FAILED or CANCELED")
    ] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> TaskList:
    """This account's tasks, newest first."""
    wanted = None
    if status:
        try:
            wanted = TaskStatus(status.upper())
        except ValueError:
            choices = ", ".join(s.value for s in TaskStatus)
            raise InvalidParameter(f"Parameter 'status' must be one of {choices}.", param="status") from None
    rows, next_cursor = services.store.page(account.id, status=wanted, cursor=cursor, limit=limit)
    data = [present_task(row, services.signer, base_url, services.store.queue_position(row)) for row in rows]
    return TaskList(data=data, next_cursor=next_cursor, has_more=next_cursor is not None)


@router.get("/{task_id}", response_model=TaskPublic, responses=_ERRORS, summary="Get a task")
async def get_task(
    task_id: str, services: ServicesDep, account: AccountDep, base_url: BaseUrlDep
) -> Response:
    row, position = await asyncio.to_thread(services.store.get_with_position, task_id, account.id)
    return task_response(services, row, base_url, position)


@router.post("/{task_id}/cancel", response_model=TaskPublic, responses=_ERRORS, summary="Cancel a task")
def cancel_task(
    task_id: str, services: ServicesDep, account: AccountDep, base_url: BaseUrlDep
) -> dict[str, Any]:
    """A PENDING task is CANCELED at once; a RUNNING one stops at its next step (``cancel_requested``)."""
    return task_json(services, services.tasks.cancel(task_id, account.id), base_url)


@router.delete("/{task_id}", status_code=204, responses=_ERRORS, summary="Delete a task and its files")
def delete_task(task_id: str, services: ServicesDep, account: AccountDep) -> Response:
    services.tasks.delete(task_id, account.id)
    return Response(status_code=204)
