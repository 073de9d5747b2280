""":class:`Client`: the native API from Python, blocking (``httpx.Client``)."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from restyle.client.core import ClientCore, EventDecoder, event_outcome, is_final
from restyle.client.errors import ConnectionFailed
from restyle.client.models import Progress, Result, TaskPage

ProgressCallback = Callable[[Progress], Any]


class Client:
    """A restyle server at ``base_url``, used with ``api_key`` (default: env ``RESTYLE_API_KEY``).

    ``Client(url, key).restyle("me.jpg", style="anime").save("me_anime.png")``. Errors are
    :class:`~restyle.client.errors.ClientError` subclasses; 429 and 503 answers are retried up to
    ``max_retries`` times, never sooner than the server's Retry-After. ``events=False`` polls instead
    of following server-sent events; ``http_client`` is an httpx client of your own (proxies, TLS
    settings). Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 4,
        max_retry_wait: float = 60.0,
        events: bool = True,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.core = ClientCore(base_url, api_key, timeout, max_retries, max_retry_wait, events)
        self._http = http_client or httpx.Client(**self.core.http_options())
        self._owns_http = http_client is None  # a client passed in is the caller's to close

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def _send(
        self,
        method: str,
        url: str,
        *,
        auth: bool = True,
        idempotent: bool | None = None,
        expect_json: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request with the retry rule: 429/503 and refused connections are retried, and so is a
        broken connection when the request is ``idempotent`` (GETs, and submits with their key)."""
        headers = self.core.headers(auth, **kwargs.pop("headers", {}))
        attempt = 0
        while True:
            try:
                response = self._http.request(method, self.core.url(url), headers=headers, **kwargs)
            except httpx.TransportError as exc:
                safe = isinstance(exc, httpx.ConnectError) or (
                    method == "GET" if idempotent is None else idempotent
                )
                delay = self.core.retry_delay(attempt, None) if safe else None
                if delay is None:
                    why = str(exc) or type(exc).__name__
                    raise ConnectionFailed(
                        f"The server {self.core.base_url} cannot be reached: {why}."
                    ) from None
                self.core.log_retry(f"{method} {url} failed ({exc!r})", delay, attempt)
            else:
                if response.is_success:
                    if expect_json:
                        self.core.check_json(response)
                    return response
                delay = self.core.response_delay(response, attempt)
                if delay is None:
                    raise self.core.error(response)
                self.core.log_retry(f"{method} {url} answered {response.status_code}", delay, attempt)
            time.sleep(delay)
            attempt += 1

    # tasks ------------------------------------------------------------------------------------------------
    def submit(
        self,
        image: Any,
        style: str | int | None = None,
        *,
        style_image: Any = None,
        wait: float = 0,
        idempotency_key: str | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Create a task; returns its JSON at once (or after up to ``wait`` seconds on the server)."""
        request = self.core.submit_request(image, style, style_image, params, wait, idempotency_key)
        return dict(self._send("POST", "/v1/tasks", idempotent=True, **request).json())

    def get(self, task_id: str) -> dict[str, Any]:
        return dict(self._send("GET", f"/v1/tasks/{task_id}").json())

    def cancel(self, task_id: str) -> dict[str, Any]:
        """Cancel: a PENDING task at once, a RUNNING one at its next step (``cancel_requested``)."""
        return dict(self._send("POST", f"/v1/tasks/{task_id}/cancel").json())

    def delete(self, task_id: str) -> None:
        """Delete the task and its files."""
        self._send("DELETE", f"/v1/tasks/{task_id}", expect_json=False)

    def list(self, status: str | None = None, *, limit: int = 20, cursor: str | None = None) -> TaskPage:
        """One page of this account's tasks, newest first."""
        body = self._send("GET", "/v1/tasks", params=self.core.list_query(status, limit, cursor)).json()
        return self.core.page(body)

    def iter_tasks(self, status: str | None = None, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every task of this account, newest first, following the cursors page by page."""
        cursor = None
        while True:
            page = self.list(status, limit=page_size, cursor=cursor)
            yield from page.data
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor

    def styles(self) -> builtins.list[dict[str, Any]]:
        """The server's style presets (no key needed)."""
        return list(self._send("GET", "/v1/styles", auth=False).json()["data"])

    def account(self) -> dict[str, Any]:
        """The calling account: its limits (``qps``, ``concurrency``) and webhook secret."""
        return dict(self._send("GET", "/v1/account").json())

    # waiting ----------------------------------------------------------------------------------------------
    def wait(
        self, task_id: str, *, timeout: float | None = None, progress: ProgressCallback | None = None
    ) -> dict[str, Any]:
        """The task once it SUCCEEDED (TaskFailed when it FAILED or was CANCELED, WaitTimeout after
        ``timeout`` s). Follows the server-sent events, or polls when they are off or break."""
        deadline = self.core.deadline(timeout)
        task = self._follow_events(task_id, deadline, timeout, progress) if self.core.events else None
        if task is None:
            task = self._poll(task_id, deadline, timeout, progress)
        return self.core.finished(task)

    def _follow_events(
        self, task_id: str, deadline: float | None, timeout: float | None, progress: ProgressCallback | None
    ) -> dict[str, Any] | None:
        """The final task from ``/events``; None when the stream is unavailable or ends early."""
        decoder = EventDecoder()
        read = httpx.Timeout(self.core.timeout, read=self.core.events_read_timeout(deadline))
        headers = self.core.headers(Accept="text/event-stream")
        try:
            url = self.core.url(f"/v1/tasks/{task_id}/events")
            with self._http.stream("GET", url, headers=headers, timeout=read) as stream:
                if stream.status_code in (401, 403, 404):
                    stream.read()
                    raise self.core.error(stream)
                if stream.status_code != 200:
                    return None
                for line in stream.iter_lines():  # keep-alive comments bring a deadline check too
                    self.core.check_deadline(task_id, deadline, timeout)
                    outcome = event_outcome(task_id, decoder.feed(line))
                    if isinstance(outcome, Progress):
                        if progress is not None:
                            progress(outcome)
                    elif outcome is not None:
                        return outcome
        except (httpx.TransportError, httpx.StreamError):
            return None
        return None

    def _poll(
        self, task_id: str, deadline: float | None, timeout: float | None, progress: ProgressCallback | None
    ) -> dict[str, Any]:
        last: Progress | None = None
        for delay in self.core.poll_delays():
            task = self.get(task_id)
            if is_final(task):
                return task
            report = Progress.from_task(task)
            if progress is not None and report != last:
                progress(report)
            last = report
            self.core.check_deadline(task_id, deadline, timeout)
            time.sleep(delay)
        raise AssertionError("unreachable")

    # results ----------------------------------------------------------------------------------------------
    def result(self, task: dict[str, Any] | str) -> Result:
        """The output of a SUCCEEDED task (its JSON or id), fetched from its signed link."""
        task = self.core.finished(self.get(task) if isinstance(task, str) else task)
        return Result(
            task, self._send("GET", self.core.result_url(task), auth=False, expect_json=False).content
        )

    def restyle(
        self,
        image: Any,
        style: str | int | None = None,
        *,
        style_image: Any = None,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
        idempotency_key: str | None = None,
        **params: Any,
    ) -> Result:
        """Submit ``image`` with ``style`` and the API's parameters (``seed``, ``hd``, ``prompt``...), wait
        for it (``progress`` is called with each :class:`Progress`), and fetch the output."""
        task = self.submit(image, style, style_image=style_image, idempotency_key=idempotency_key, **params)
        if not is_final(task):
            task = self.wait(task["id"], timeout=timeout, progress=progress)
        return self.result(task)
