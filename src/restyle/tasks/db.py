"""The database behind tasks and accounts: engine set-up, sessions, migrations.

SQLite runs in WAL mode; write transactions start with ``BEGIN IMMEDIATE`` so that claims and
other read-then-write transactions are atomic and wait on ``busy_timeout`` instead of failing.
PostgreSQL (psycopg 3) runs READ COMMITTED with a pool sized by settings; claims lock rows with
``FOR UPDATE SKIP LOCKED`` (see :mod:`restyle.tasks.lease`). A database that cannot be reached,
or stays busy, surfaces as :class:`~restyle.errors.StoreUnavailable` (503 with Retry-After).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

from restyle.errors import StoreUnavailable

if TYPE_CHECKING:
    from restyle.config import Settings

_WRITE = "restyle_write"
_MIGRATE_LOCK = 0x7265_7374_796C_6501  # any constant: one process migrates at a time on PostgreSQL
UNAVAILABLE = (OperationalError, DisconnectionError, PoolTimeout)
RETRY_AFTER_SECONDS = 5.0


class Base(DeclarativeBase):
    """Declarative base of every restyle table."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("restyle stores only timezone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_engine(url: str) -> Engine:
    database = url.split("///", 1)[1] if "///" in url else ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # restyle emits BEGIN itself (see _on_begin)
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# A dead peer must be noticed in about 30 s on both ends, not after the kernels' 2 h keepalive default:
# the client side (libpq keepalives, tcp_user_timeout) so a call on a cut link fails and reconnects, the
# server side (tcp_keepalives_*, set per session so that a URL's own ``options`` stay untouched) so a
# session of a vanished host ends and frees its advisory locks (the upkeep leader's, claim locks).
KEEPALIVE_ARGS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30000,
}
SERVER_KEEPALIVE_SQL = (
    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3"
)


def server_keepalives(dbapi_connection: Any) -> None:
    """Ask the server to probe this session's client (see KEEPALIVE_ARGS); kept past the transaction."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(SERVER_KEEPALIVE_SQL)
    if not getattr(dbapi_connection, "autocommit", False):
        dbapi_connection.commit()


def _server_engine(url: str, pool_size: int, max_overflow: int, pool_timeout: float) -> Engine:
    engine = create_engine(
        url,
        pool_pre_ping=True,  # a connection the server dropped (restart) is replaced, not handed out
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        connect_args={"connect_timeout": max(1, round(pool_timeout)), **KEEPALIVE_ARGS},
    )
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", lambda dbapi_connection, _record: server_keepalives(dbapi_connection))
    return engine


def unavailable() -> StoreUnavailable:
    """The answer for a database that cannot be reached or stays busy (lost connection, pool empty)."""
    return StoreUnavailable(
        f"The task database is unavailable right now; retry in {RETRY_AFTER_SECONDS:g} seconds.",
        retry_after=RETRY_AFTER_SECONDS,
    )


class Database:
    """One engine per process, with read and write sessions."""

    def __init__(
        self, url: str, *, pool_size: int = 5, max_overflow: int = 10, pool_timeout: float = 10.0
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = (
            _sqlite_engine(url)
            if self.is_sqlite
            else _server_engine(url, pool_size, max_overflow, pool_timeout)
        )
        self._write_engine = self.engine.execution_options(**{_WRITE: True})

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The task store named by ``tasks.database_url`` with the pool the settings size."""
        tasks = settings.tasks
        return cls(
            settings.database_url,
            pool_size=tasks.pool_size,
            max_overflow=tasks.max_overflow,
            pool_timeout=tasks.pool_timeout_seconds,
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session in a read transaction; objects stay usable after it ends."""
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except UNAVAILABLE as exc:
            raise unavailable() from exc

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on exit."""
        try:
            with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
                yield session
        except UNAVAILABLE as exc:
            raise unavailable() from exc

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to run from several processes:
        SQLite's write lock, or an advisory lock on PostgreSQL, lets one migrate at a time)."""
        from restyle.migrations import upgrade

        with self._write_engine.begin() as connection:
            if not self.is_sqlite:
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK})
            upgrade(connection)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False

    def dispose(self) -> None:
        self.engine.dispose()
