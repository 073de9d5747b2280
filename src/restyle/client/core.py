"""What :class:`Client` and :class:`AsyncClient` share and do without I/O: settings, headers, the retry
rule, reading answers and server-sent events. The two clients only send requests and sleep."""

from __future__ import annotations

import json
import logging
import os
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from restyle import __version__
from restyle.client.errors import (
    ApiError,
    ClientError,
    TaskFailed,
    WaitTimeout,
    api_error,
    retry_after_seconds,
)
from restyle.client.inputs import submit_parts
from restyle.client.models import FINAL_STATUSES, Progress, TaskPage

log = logging.getLogger("restyle.client")

API_KEY_ENV = "RESTYLE_API_KEY"
RETRY_STATUSES = frozenset({429, 503})
MAX_BACKOFF = 30.0  # seconds between two retries when the server gives no Retry-After
EVENTS_READ_TIMEOUT = 45.0  # the server sends a keep-alive comment every 15 s
FINAL_EVENTS = frozenset({"succeeded", "failed", "canceled"})


@dataclass
class ClientCore:
    """Settings of a client and the decisions that need no I/O."""

    base_url: str
    api_key: str | None = None
    timeout: float = 60.0
    max_retries: int = 4
    max_retry_wait: float = 60.0
    events: bool = True
    poll_interval: float = 0.5

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise ClientError(
                f"The server URL must start with http:// or https://, not '{self.base_url}'.",
                code="client.url",
            )
        if self.api_key is None:
            self.api_key = os.environ.get(API_KEY_ENV) or None

    def http_options(self) -> dict[str, Any]:
        return {
            "timeout": httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            "headers": {"User-Agent": f"restyle-client/{__version__}"},
        }

    def url(self, path_or_url: str) -> str:
        """An API path on this server, or an absolute URL (a result link) as it is."""
        return self.base_url + path_or_url if path_or_url.startswith("/") else path_or_url

    def headers(self, auth: bool = True, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if auth and self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    # 1. retries -------------------------------------------------------------------------------------------
    def retry_delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to sleep before retry number ``attempt + 1``, or None to give up.

        Never sooner than the server's Retry-After; a small random extra spreads clients that were
        refused together. Without Retry-After: 0.5, 1, 2, 4 ... s, at most MAX_BACKOFF (jittered). A
        Retry-After longer than ``max_retry_wait`` is not waited for."""
        if attempt >= self.max_retries:
            return None
        if retry_after is not None and retry_after > self.max_retry_wait:
            return None
        base = retry_after if retry_after is not None else min(0.5 * 2**attempt, MAX_BACKOFF)
        return base + random.uniform(0, 0.1 * base + 0.2)

    def response_delay(self, response: httpx.Response, attempt: int) -> float | None:
        if response.status_code not in RETRY_STATUSES:
            return None
        return self.retry_delay(attempt, retry_after_seconds(response.headers.get("retry-after")))

    @staticmethod
    def log_retry(what: str, delay: float, attempt: int) -> None:
        log.info("%s; retry %d in %.1f s", what, attempt + 1, delay)

    def check_json(self, response: httpx.Response) -> None:
        """A success answer the client reads as JSON must be JSON (a proxy's HTML page is an ApiError)."""
        if response.status_code == 204:
            return
        try:
            json.loads(response.content)
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise ApiError(
                f"The server {self.base_url} answered HTTP {response.status_code} with a body that is not JSON "
                f"({kind}); is this the address of a restyle API?",
                code="response.not_json",
                status=response.status_code,
            ) from None

    @staticmethod
    def error(response: httpx.Response) -> ApiError:
        return api_error(response.status_code, response.content, response.headers)

    # 2. requests ------------------------------------------------------------------------------------------
    @staticmethod
    def submit_request(
        image: Any,
        style: str | int | None,
        style_image: Any,
        params: dict[str, Any],
        wait: float,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        """The keyword arguments of the submit request (a multipart form, or a plain form for URL-only
        inputs). The Idempotency-Key makes a retried submit return the first task, never a second one."""
        fields, files = submit_parts(image, style_image, {"style": style, **params})
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        query: dict[str, Any] = {}
        if wait > 0:
            query["wait"] = f"{wait:g}"
        else:
            headers["Prefer"] = "respond-async"
        return {"data": fields, "files": files or None, "headers": headers, "params": query}

    @staticmethod
    def list_query(status: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
        query: dict[str, Any] = {"limit": limit}
        if status:
            query["status"] = status
        if cursor:
            query["cursor"] = cursor
        return query

    @staticmethod
    def page(body: dict[str, Any]) -> TaskPage:
        return TaskPage(
            data=list(body.get("data", [])),
            next_cursor=body.get("next_cursor"),
            has_more=bool(body.get("has_more")),
            raw=body,
        )

    # 3. waiting -------------------------------------------------------------------------------------------
    @staticmethod
    def deadline(timeout: float | None) -> float | None:
        return None if timeout is None else time.monotonic() + timeout

    @staticmethod
    def check_deadline(task_id: str, deadline: float | None, timeout: float | None) -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise WaitTimeout(
                f"Task {task_id} did not finish within {timeout:g} s; it goes on on the server."
            )

    @staticmethod
    def events_read_timeout(deadline: float | None) -> float:
        """How long the event stream may stay silent: past the keep-alives, or just past the deadline
        (a timed-out read ends in polling, which reports the deadline)."""
        if deadline is None:
            return EVENTS_READ_TIMEOUT
        return min(EVENTS_READ_TIMEOUT, max(0.1, deadline - time.monotonic() + 0.1))

    def poll_delays(self) -> Iterator[float]:
        """0.5 s, then slower up to 2 s between two reads of a task being polled."""
        delay = self.poll_interval
        while True:
            yield delay
            delay = min(delay * 1.5, max(2.0, self.poll_interval))

    @staticmethod
    def finished(task: dict[str, Any]) -> dict[str, Any]:
        """The task when it SUCCEEDED; TaskFailed when it ended FAILED or CANCELED."""
        if task.get("status") != "SUCCEEDED":
            raise TaskFailed(task)
        return task

    @staticmethod
    def result_url(task: dict[str, Any]) -> str:
        images = (task.get("result") or {}).get("images") or []
        if not images:
            raise ClientError(f"Task {task.get('id')} has no result image.", code="client.no_result")
        return str(images[0]["url"])


def is_final(task: dict[str, Any]) -> bool:
    return task.get("status") in FINAL_STATUSES


class EventDecoder:
    """Server-sent events from a stream's lines: ``feed`` a line, get ``(event, data)`` when one ends."""

    def __init__(self) -> None:
        self._event, self._data = "message", []  # type: tuple[str, list[str]]

    def feed(self, line: str) -> tuple[str, dict[str, Any]] | None:
        if line.startswith(":"):
            return None
        if line:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                self._event = value
            elif name == "data":
                self._data.append(value)
            return None
        event, data = self._event, "\n".join(self._data)
        self._event, self._data = "message", []
        if not data:
            return None
        try:
            parsed = json.loads(data)
        except ValueError:
            return None
        return (event, parsed) if isinstance(parsed, dict) else None


def event_outcome(
    task_id: str, decoded: tuple[str, dict[str, Any]] | None
) -> dict[str, Any] | Progress | None:
    """What a decoded event means: the final task JSON, a Progress, or nothing; an ``error`` event raises."""
    if decoded is None:
        return None
    event, data = decoded
    if event in FINAL_EVENTS:
        return data
    if event == "error":
        error = data.get("error") or {}
        raise api_error(404 if str(error.get("code", "")).endswith("not_found") else 500,
                        json.dumps(data).encode(), {})  # fmt: skip
    return Progress.from_event(task_id, event, data)
