"""A change feed inside the API process: workers' reports wake coroutines that wait on a task.

Waiters always re-read the row (the truth) after waking, and also wake on a timeout, so a lost
or absent notification (e.g. Celery workers on a SQLite store) only delays an answer. With a
PostgreSQL store the reports of every process arrive here too (:mod:`restyle.tasks.pg_events`). Subscribers
(server-sent events) also receive each report's payload, such as every runner step.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

Event = dict[str, Any]


class ChangeFeed:
    """Wakes coroutines waiting for a change of a task; :meth:`publish` may be called from any thread."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._subscribers: dict[str, set[asyncio.Queue[Event | None]]] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop that waits; publishers in other threads hand their reports to it."""
        self._loop = loop

    def publish(self, task_id: str, event: Event | None = None) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(self._deliver, task_id, event)

    def _deliver(self, task_id: str, event: Event | None) -> None:
        progress_only = event is not None and "step" in event  # waiters only care about the status
        with self._lock:
            futures = set() if progress_only else self._waiters.pop(task_id, set())
            queues = list(self._subscribers.get(task_id, ()))
        for future in futures:
            if not future.done():
                future.set_result(None)
        for queue in queues:
            queue.put_nowait(event)

    async def wait(self, task_id: str, timeout: float) -> bool:
        """True when the task's status changed within ``timeout`` seconds (progress reports do not
        count), False on timeout."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiters.setdefault(task_id, set()).add(future)
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                waiting = self._waiters.get(task_id)
                if waiting is not None:
                    waiting.discard(future)
                    if not waiting:
                        del self._waiters[task_id]

    def subscribe(self, task_id: str) -> asyncio.Queue[Event | None]:
        """A queue of this task's reports (payload, or None for "something changed")."""
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        with self._lock:
            self._subscribers.setdefault(task_id, set()).add(queue)
        return queue

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop listening to other processes (feeds that do, see :mod:`restyle.tasks.pg_events`)."""

    def unsubscribe(self, task_id: str, queue: asyncio.Queue[Event | None]) -> None:
        with self._lock:
            queues = self._subscribers.get(task_id)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._subscribers[task_id]
