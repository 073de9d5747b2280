"""The client's errors: one hierarchy under :class:`ClientError` (itself a ``RestyleError``, so code that
handles local runs handles remote ones the same way).

``ApiError`` is an error answer of the server and carries its ``code``, ``message``, ``param`` and HTTP
``status``; ``TaskFailed`` is a task that ended FAILED or CANCELED.
"""

from __future__ import annotations

import json
from typing import Any

from restyle.errors import RestyleError


class ClientError(RestyleError):
    """Base of every error ``restyle.client`` raises; ``status`` is 0 when there was no HTTP answer."""

    code = "client.error"
    status = 0


class InvalidInput(ClientError):
    """An image given to the client cannot be sent (a missing file, an unsupported array or object)."""

    code = "input.invalid"


class ConnectionFailed(ClientError):
    """The server could not be reached (after the retries)."""

    code = "client.connection"


class WaitTimeout(ClientError, TimeoutError):
    """A task did not finish within the time the caller gave ``wait`` or ``restyle``."""

    code = "client.timeout"


class ApiError(ClientError):
    """An error answer of the API: ``code``, ``message``, ``param``, HTTP ``status`` and ``request_id``."""

    def __init__(
        self, message: str, *, code: str, status: int, param: str | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message, code=code, status=status, param=param)
        self.request_id = request_id

    def __str__(self) -> str:
        where = f" (parameter '{self.param}')" if self.param else ""
        return f"{self.status} {self.code}: {self.message}{where}"


class AuthenticationError(ApiError):
    """401/403: the API key is missing, wrong, revoked, or not allowed to do this."""


class NotFound(ApiError):
    """404: no such task (or another account's), or no such endpoint."""


class RateLimited(ApiError):
    """429: over the account's submit rate; ``retry_after`` is the server's Retry-After in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerUnavailable(ApiError):
    """503: the server is not ready or its queue is full; ``retry_after`` when the server sent one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class TaskFailed(ClientError):
    """The task ended FAILED or CANCELED; ``code`` and ``message`` are the task's error, ``task`` its JSON."""

    def __init__(self, task: dict[str, Any]) -> None:
        error = task.get("error") or {}
        status = task.get("status", "FAILED")
        message = error.get("message") or f"The task ended {status}."
        super().__init__(message, code=error.get("code") or f"task.{str(status).lower()}")
        self.task = task
        self.task_status: str = status


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds of a Retry-After header in its delta form; None when absent or a date (not sent by restyle)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def api_error(status: int, body: bytes, headers: Any) -> ApiError:
    """The typed error of an HTTP error answer (the native API's ``{"error": {...}}`` or anything else)."""
    try:
        parsed = json.loads(body)
        error = parsed["error"]
        code, message = str(error["code"]), str(error["message"])
        param, request_id = error.get("param"), parsed.get("request_id")
    except (ValueError, KeyError, TypeError):
        text = body[:200].decode("utf-8", "replace").strip()
        code, message, param, request_id = f"http.{status}", f"The server answered HTTP {status}: {text!r}.", None, None
    kind: type[ApiError] = {
        401: AuthenticationError, 403: AuthenticationError, 404: NotFound, 429: RateLimited, 503: ServerUnavailable
    }.get(status, ApiError)  # fmt: skip
    extra: dict[str, Any] = {}
    if kind in (RateLimited, ServerUnavailable):
        extra["retry_after"] = retry_after_seconds(headers.get("retry-after"))
    return kind(message, code=code, status=status, param=param, request_id=request_id, **extra)
