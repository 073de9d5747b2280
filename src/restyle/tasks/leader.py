"""Leader election for the upkeep loop: exactly one process of a deployment runs it at a time.

Every API process runs the loop, but only the one holding the upkeep lock acts (lease recovery,
retention, webhook deliveries, re-announcing waiting tasks):

- PostgreSQL: a session-level advisory lock on a connection of its own. The lock lives as long as
  that session: a leader that dies, or loses its connection, loses it, and the next process that
  tries takes over. The leader checks its connection before each round, so a leader cut off from
  the database stops acting (and could not write anything meanwhile anyway).
- SQLite (one machine): an exclusive ``flock`` on ``<data_dir>/upkeep.lock``, released by the
  kernel when its process ends, even by kill -9.
The store's own rules (row locks, guarded updates) keep each action safe if two ever overlap.
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Any

from restyle.tasks.db import KEEPALIVE_ARGS, Database, server_keepalives

log = logging.getLogger(__name__)

UPKEEP_LOCK = 0x7570_6B70  # advisory-lock space of the upkeep leader (int4), one key per schema


class Leader(abc.ABC):
    """Whether this process leads the upkeep now; :meth:`check` is called before every round."""

    @abc.abstractmethod
    def check(self) -> bool:
        """Keep or try to take the lead; True while this process holds it."""

    @abc.abstractmethod
    def release(self) -> None:
        """Give the lead up (at shutdown)."""


class PgLeader(Leader):
    """The holder of a session advisory lock on a dedicated PostgreSQL connection (kept open by the
    followers too, so trying again each round opens no new connection)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._connection: Any = None  # psycopg.Connection
        self._leading = False

    def check(self) -> bool:
        import psycopg

        try:
            if self._connection is None:
                args, kwargs = self._db.engine.dialect.create_connect_args(self._db.engine.url)
                kwargs.setdefault("connect_timeout", 3)
                kwargs = {**KEEPALIVE_ARGS, **kwargs}  # client side; the server side after connecting
                self._connection = psycopg.connect(*args, **kwargs, autocommit=True)
                server_keepalives(self._connection)
            if self._leading:
                self._connection.execute("SELECT 1")  # still connected, so still holding the lock
                return True
            # one lock per schema: deployments that share a database in schemas of their own
            # (and parallel test runs) each have their own leader
            row = self._connection.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", (UPKEEP_LOCK,)
            ).fetchone()
        except psycopg.Error:
            if self._leading:
                log.warning("the upkeep leader lost its database connection; stepping down")
            self._drop()
            return False
        self._leading = bool(row and row[0])
        if self._leading:
            log.info("this process (pid %d) now leads the upkeep", os.getpid())
        return self._leading

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
        self._connection = None
        self._leading = False

    def release(self) -> None:
        if self._leading:  # at once: a closed session's locks go only when its server process ends
            with contextlib.suppress(Exception):
                self._connection.execute("SELECT pg_advisory_unlock_all()")
        self._drop()


class FileLeader(Leader):
    """The holder of an exclusive lock on a file (processes of one machine, SQLite)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[bytes] | None = None

    def check(self) -> bool:
        if self._file is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self._path, "ab")  # noqa: SIM115 - held open for as long as this process leads
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases the lock
            self._file = None


def create_leader(db: Database, data_dir: Path) -> Leader:
    """PostgreSQL's advisory lock, or a lock file beside a SQLite store."""
    return FileLeader(data_dir / "upkeep.lock") if db.is_sqlite else PgLeader(db)
