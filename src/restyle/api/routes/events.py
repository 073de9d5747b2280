"""``GET /v1/tasks/{id}/events``: server-sent events while a task waits and runs.

Events: ``queued`` (queue position), ``running`` (a worker took it), ``step`` (each runner step
with its progress fraction), then one final event named after the final status
(``succeeded``, ``failed`` or ``canceled``) carrying the task JSON; the stream then ends.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from restyle.api.deps import AccountDep, BaseUrlDep, ServicesDep
from restyle.api.schemas import task_json
from restyle.api.services import Services
from restyle.errors import NotFound

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

KEEPALIVE_SECONDS = 15.0
POLL_SECONDS = 1.0


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


Report = dict[str, Any] | None


def _steps(reports: list[Report], queue: asyncio.Queue[Report]) -> list[dict[str, Any]]:
    """Step reports among ``reports`` and those waiting in ``queue`` (other wake-ups only mean
    "re-read the row")."""
    while not queue.empty():
        reports.append(queue.get_nowait())
    return [report for report in reports if report is not None and "step" in report]


async def _wait(queue: asyncio.Queue[Report]) -> list[Report]:
    """The next report for the task, or none after POLL_SECONDS."""
    try:
        return [await asyncio.wait_for(queue.get(), POLL_SECONDS)]
    except TimeoutError:
        return []


async def _stream(services: Services, task_id: str, account_id: str, base_url: str) -> AsyncIterator[str]:
    queue = services.feed.subscribe(task_id)
    last_state: tuple[Any, ...] | None = None
    last_sent = time.monotonic()
    reports: list[Report] = []
    try:
        while True:
            try:
                row = await asyncio.to_thread(services.store.get, task_id, account_id)
            except NotFound as exc:  # deleted or expired while watched
                yield sse("error", {"error": exc.to_dict()})
                return
            for event in _steps(reports, queue):  # steps reported before this read
                yield sse("step", {"id": task_id, "status": "RUNNING", **event})
                last_sent = time.monotonic()
            if row.task_status.is_final:
                yield sse(row.status.lower(), await asyncio.to_thread(task_json, services, row, base_url))
                return
            position = await asyncio.to_thread(services.store.queue_position, row)
            state = (row.status, row.attempts, position)
            if state != last_state:
                name = "queued" if row.status == "PENDING" else "running"
                state_event: dict[str, Any] = {
                    "id": row.id,
                    "status": row.status,
                    "queue_position": position,
                    "attempt": row.attempts,
                }
                if row.status == "RUNNING":
                    state_event.update(step=row.step, progress=row.progress)
                yield sse(name, state_event)
                last_state, last_sent = state, time.monotonic()
            if time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            reports = await _wait(queue)
    finally:
        services.feed.unsubscribe(task_id, queue)


@router.get(
    "/{task_id}/events",
    summary="Follow a task (server-sent events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def task_events(
    task_id: str, services: ServicesDep, account: AccountDep, base_url: BaseUrlDep
) -> StreamingResponse:
    services.store.get(task_id, account.id)  # a missing or foreign task is a plain 404 before streaming
    return StreamingResponse(
        _stream(services, task_id, account.id, base_url),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
