"""The change feed across processes: PostgreSQL ``LISTEN/NOTIFY`` behind :class:`ChangeFeed`.

With a PostgreSQL task store, every report (a worker's step, a status change, a cancel in some
API process) is sent with ``pg_notify`` on one channel, and every API process listens on its own
connection and hands what it hears to its local waiters and event streams. So a client waiting
on a task, or following its events, hears of it whichever API process it reached and whichever
worker runs the task. PostgreSQL rather than Redis pub/sub: the store is already there (nothing
more to run or to fail), and notifications work with any Celery broker. Waiters still re-read the
row and poll each second, so a notification lost while a listener reconnects only delays them.
With SQLite the feed stays in-process (:class:`ChangeFeed`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable

from sqlalchemy import text

from restyle.tasks.db import KEEPALIVE_ARGS, Database, server_keepalives
from restyle.tasks.events import ChangeFeed, Event

log = logging.getLogger(__name__)

CHANNEL = "restyle_tasks"
RECONNECT_SECONDS = 1.0
Publisher = Callable[[str, Event | None], None]


def notifier(db: Database) -> Publisher:
    """A function that announces a task's report to every listening process (best effort)."""

    def publish(task_id: str, event: Event | None = None) -> None:
        payload = json.dumps({"task": task_id, "event": event}, separators=(",", ":"))
        try:
            with db.engine.connect() as connection:
                connection.execute(
                    text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
                )
                connection.commit()
        except Exception as exc:  # the database is down: waiters fall back to polling
            log.debug("could not notify the change of task %s: %s", task_id, exc)

    return publish


class PgChangeFeed(ChangeFeed):
    """A :class:`ChangeFeed` whose reports travel through PostgreSQL to every API process."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db
        self._notify = notifier(db)
        self._closed = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="change-feed", daemon=True)
        self._thread.start()

    def publish(self, task_id: str, event: Event | None = None) -> None:
        if self.listening.is_set():
            self._notify(task_id, event)  # our own listener delivers it here too
        else:  # not connected: at least this process's waiters hear of it
            super().publish(task_id, event)

    def _listen(self) -> None:
        import psycopg

        args, kwargs = self._db.engine.dialect.create_connect_args(self._db.engine.url)
        kwargs.setdefault("connect_timeout", 3)
        kwargs = {**KEEPALIVE_ARGS, **kwargs}  # client side; the server side after connecting
        while not self._closed.is_set():
            try:
                with psycopg.connect(*args, **kwargs, autocommit=True) as connection:
                    server_keepalives(connection)
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._closed.is_set():
                        for note in connection.notifies(timeout=1.0):
                            self._hear(note.payload)
            except Exception as exc:  # connection lost: reconnect after a pause
                if not self._closed.is_set():
                    log.warning("change feed lost its database connection (%s); reconnecting", exc)
            finally:
                self.listening.clear()
            self._closed.wait(RECONNECT_SECONDS)

    def _hear(self, payload: str) -> None:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            message = json.loads(payload)
            super().publish(str(message["task"]), message.get("event"))

    def close(self) -> None:
        self._closed.set()
        self._thread.join(3.0)


def create_feed(db: Database) -> ChangeFeed:
    """The API process's feed: across processes on PostgreSQL, in-process on SQLite."""
    return ChangeFeed() if db.is_sqlite else PgChangeFeed(db)


def create_publisher(db: Database) -> tuple[Publisher, Callable[[], None]]:
    """A worker's reporter of changes and how to close it; on SQLite (no shared feed) it does nothing."""
    if db.is_sqlite:
        return (lambda _task_id, _event=None: None), (lambda: None)
    return notifier(db), (lambda: None)
