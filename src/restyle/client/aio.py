""":class:`AsyncClient`: the native API from asyncio code (``httpx.AsyncClient``); the same methods as
:class:`~restyle.client.sync.Client`, awaited."""

from __future__ import annotations

import asyncio
import builtins
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from restyle.client.core import ClientCore, EventDecoder, event_outcome, is_final
from restyle.client.errors import ConnectionFailed
from restyle.client.models import Progress, Result, TaskPage

AsyncProgressCallback = Callable[[Progress], Awaitable[Any] | Any]


async def _report(progress: AsyncProgressCallback | None, report: Progress) -> None:
    if progress is not None and inspect.isawaitable(outcome := progress(report)):
        await outcome


class AsyncClient:
    """A restyle server at ``base_url`` for asyncio code; ``progress`` callbacks may be plain functions or
    coroutines. Retries, errors and waiting behave exactly as in :class:`Client`."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 4,
        max_retry_wait: float = 60.0,
        events: bool = True,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.core = ClientCore(base_url, api_key, timeout, max_retries, max_retry_wait, events)
        self._http = http_client or httpx.AsyncClient(**self.core.http_options())
        self._owns_http = http_client is None  # a client passed in is the caller's to close

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _send(
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
                response = await self._http.request(method, self.core.url(url), headers=headers, **kwargs)
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
            await asyncio.sleep(delay)
            attempt += 1

    # tasks ------------------------------------------------------------------------------------------------
    async def submit(
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
        return dict((await self._send("POST", "/v1/tasks", idempotent=True, **request)).json())

    async def get(self, task_id: str) -> dict[str, Any]:
        return dict((await self._send("GET", f"/v1/tasks/{task_id}")).json())

    async def cancel(self, task_id: str) -> dict[str, Any]:
        return dict((await self._send("POST", f"/v1/tasks/{task_id}/cancel")).json())

    async def delete(self, task_id: str) -> None:
        await self._send("DELETE", f"/v1/tasks/{task_id}", expect_json=False)

    async def list(
        self, status: str | None = None, *, limit: int = 20, cursor: str | None = None
    ) -> TaskPage:
        query = self.core.list_query(status, limit, cursor)
        return self.core.page((await self._send("GET", "/v1/tasks", params=query)).json())

    async def iter_tasks(
        self, status: str | None = None, *, page_size: int = 100
    ) -> AsyncIterator[dict[str, Any]]:
        cursor = None
        while True:
            page = await self.list(status, limit=page_size, cursor=cursor)
            for task in page.data:
                yield task
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor

    async def styles(self) -> builtins.list[dict[str, Any]]:
        return list((await self._send("GET", "/v1/styles", auth=False)).json()["data"])

    async def account(self) -> dict[str, Any]:
        return dict((await self._send("GET", "/v1/account")).json())

    # waiting ----------------------------------------------------------------------------------------------
    async def wait(
        self, task_id: str, *, timeout: float | None = None, progress: AsyncProgressCallback | None = None
    ) -> dict[str, Any]:
        deadline = self.core.deadline(timeout)
        task = await self._follow_events(task_id, deadline, timeout, progress) if self.core.events else None
        if task is None:
            task = await self._poll(task_id, deadline, timeout, progress)
        return self.core.finished(task)

    async def _follow_events(
        self,
        task_id: str,
        deadline: float | None,
        timeout: float | None,
        progress: AsyncProgressCallback | None,
    ) -> dict[str, Any] | None:
        decoder = EventDecoder()
        read = httpx.Timeout(self.core.timeout, read=self.core.events_read_timeout(deadline))
        headers = self.core.headers(Accept="text/event-stream")
        url = self.core.url(f"/v1/tasks/{task_id}/events")
        try:
            async with self._http.stream("GET", url, headers=headers, timeout=read) as stream:
                if stream.status_code in (401, 403, 404):
                    await stream.aread()
                    raise self.core.error(stream)
                if stream.status_code != 200:
                    return None
                async for line in stream.aiter_lines():  # keep-alive comments bring a deadline check too
                    self.core.check_deadline(task_id, deadline, timeout)
                    outcome = event_outcome(task_id, decoder.feed(line))
                    if isinstance(outcome, Progress):
                        await _report(progress, outcome)
                    elif outcome is not None:
                        return outcome
        except (httpx.TransportError, httpx.StreamError):
            return None
        return None

    async def _poll(
        self,
        task_id: str,
        deadline: float | None,
        timeout: float | None,
        progress: AsyncProgressCallback | None,
    ) -> dict[str, Any]:
        last: Progress | None = None
        for delay in self.core.poll_delays():
            task = await self.get(task_id)
            if is_final(task):
                return task
            report = Progress.from_task(task)
            if report != last:
                await _report(progress, report)
            last = report
            self.core.check_deadline(task_id, deadline, timeout)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    # results ----------------------------------------------------------------------------------------------
    async def result(self, task: dict[str, Any] | str) -> Result:
        task = self.core.finished(await self.get(task) if isinstance(task, str) else task)
        return Result(
            task, (await self._send("GET", self.core.result_url(task), auth=False, expect_json=False)).content
        )

    async def restyle(
        self,
        image: Any,
        style: str | int | None = None,
        *,
        style_image: Any = None,
        progress: AsyncProgressCallback | None = None,
        timeout: float | None = None,
        idempotency_key: str | None = None,
        **params: Any,
    ) -> Result:
        """Submit, wait (reporting progress) and fetch the output, as :meth:`Client.restyle`."""
        task = await self.submit(
            image, style, style_image=style_image, idempotency_key=idempotency_key, **params
        )
        if not is_final(task):
            task = await self.wait(task["id"], timeout=timeout, progress=progress)
        return await self.result(task)
