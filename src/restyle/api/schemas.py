"""Public JSON shapes of the native API (the ``XPublic`` models) and how rows become them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel, Field

from restyle.api.services import Services
from restyle.storage.urls import UrlSigner
from restyle.tasks.models import TaskRow


class ErrorDetail(BaseModel):
    """What went wrong: a stable code, a sentence for people, and the parameter if there is one."""

    code: str
    message: str
    param: str | None = None


class ErrorBody(BaseModel):
    """Every error response of the native API."""

    error: ErrorDetail
    request_id: str


class ResultImage(BaseModel):
    """One output image: a signed link valid for ``storage.url_ttl_seconds``."""

    url: str
    key: str
    format: str | None = None
    width: int | None = None
    height: int | None = None


class TaskResult(BaseModel):
    """The outcome of a SUCCEEDED task."""

    images: list[ResultImage]
    identity_distance: float | None = Field(None, description="Below 0.6 means the same person (dlib).")
    guard_applied: bool | None = None
    summary: dict[str, Any] = Field(default_factory=dict)


class WebhookState(BaseModel):
    """Delivery of the completion to ``callback_url``."""

    url: str
    status: str | None = Field(None, description="pending | delivered | failed; null while the task runs")
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None


class TaskPublic(BaseModel):
    """A task as the native API shows it."""

    id: str
    object: Literal["task"] = "task"
    status: str
    created_at: datetime
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    expires_at: datetime
    attempts: int
    queue_position: int | None = Field(None, description="Tasks ahead of this one while PENDING.")
    step: str | None = None
    progress: float = 0.0
    cancel_requested: bool = False
    timings_ms: dict[str, float] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    result: TaskResult | None = None
    error: ErrorDetail | None = None
    webhook: WebhookState | None = None


class TaskList(BaseModel):
    """A page of tasks, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    object: Literal["list"] = "list"
    data: list[TaskPublic]
    next_cursor: str | None = None
    has_more: bool = False


def task_json(services: Services, row: TaskRow, base_url: str) -> dict[str, Any]:
    """The task as JSON, with its queue position and freshly signed links."""
    position = services.store.queue_position(row)
    return present_task(row, services.signer, base_url, position).model_dump(mode="json")


class JSONBytes(Response):
    """A response whose body is JSON already serialized (by pydantic's Rust serializer)."""

    media_type = "application/json"


def task_response(
    services: Services,
    row: TaskRow,
    base_url: str,
    position: int | None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The task as a JSON response (what :func:`task_json` gives, serialized once, not validated again)."""
    body = present_task(row, services.signer, base_url, position).model_dump_json()
    return JSONBytes(body, status_code=status_code, headers=headers)


def present_task(
    row: TaskRow, signer: UrlSigner, base_url: str, queue_position: int | None = None
) -> TaskPublic:
    result = None
    if row.status == "SUCCEEDED" and row.result_keys:
        summary = row.result or {}
        images = [
            ResultImage(
                url=signer.task_url(base_url, key, row.expires_at),
                key=key,
                format=summary.get("format"),
                width=summary.get("width"),
                height=summary.get("height"),
            )
            for key in row.result_keys
        ]
        result = TaskResult(
            images=images,
            identity_distance=row.identity_distance,
            guard_applied=summary.get("guard_applied"),
            summary=summary,
        )
    error = ErrorDetail(code=row.error_code, message=row.error_message or "") if row.error_code else None
    webhook = None
    if row.callback_url:
        webhook = WebhookState(
            url=row.callback_url,
            status=row.webhook_status,
            attempts=row.webhook_attempts,
            last_error=row.webhook_last_error,
            delivered_at=row.webhook_delivered_at,
        )
    return TaskPublic(
        id=row.id,
        status=row.status,
        created_at=row.submitted_at,
        scheduled_at=row.scheduled_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        expires_at=row.expires_at,
        attempts=row.attempts,
        queue_position=queue_position,
        step=row.step,
        progress=row.progress,
        cancel_requested=row.cancel_requested,
        timings_ms=row.timings_ms or {},
        parameters=row.params or {},
        result=result,
        error=error,
        webhook=webhook,
    )
