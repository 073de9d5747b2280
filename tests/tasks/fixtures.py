"""Database fixtures shared by the task, auth and API tests: every store test runs on SQLite and
on PostgreSQL (127.0.0.1:5432, db ``test``, user postgres) in a schema of its own.

Without a reachable PostgreSQL the PostgreSQL cases are skipped, unless CI=true: then they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from restyle.auth.accounts import AccountStore
from restyle.auth.keys import KeyStore
from restyle.auth.serverkey import ServerKey
from restyle.config import LimitSettings
from restyle.tasks.db import Database, utcnow
from restyle.tasks.models import TaskRow
from restyle.tasks.store import TaskStore

PG_BASE = os.environ.get("RESTYLE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_BASE, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def pg_unreachable() -> str | None:
    return _pg_reachable()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, pg_unreachable: str | None) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'restyle.db'}"
        return
    if pg_unreachable is not None:
        message = f"PostgreSQL at {PG_BASE} is unreachable ({pg_unreachable})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " and CI=true requires it.")
        pytest.skip(message)
    schema = f"restyle_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def server_key() -> ServerKey:
    return ServerKey(b"k" * 32)


@pytest.fixture
def accounts(db: Database) -> AccountStore:
    return AccountStore(db, LimitSettings())


@pytest.fixture
def keys(db: Database, server_key: ServerKey) -> KeyStore:
    return KeyStore(db, server_key)


@pytest.fixture
def store(db: Database) -> TaskStore:
    return TaskStore(db)


def new_task(account_id: str, *, seconds_ago: float = 0.0, **values: object) -> TaskRow:
    """A PENDING task row as TaskService.submit makes it (inputs are not stored)."""
    now = utcnow() - timedelta(seconds=seconds_ago)
    fields: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "account_id": account_id,
        "front": "native",
        "status": "PENDING",
        "params": {"style": "sketch"},
        "inputs": {},
        "submitted_at": now,
        "expires_at": now + timedelta(hours=24),
        "attempts": 0,
        "max_attempts": 3,
        "cancel_requested": False,
        "progress": 0.0,
        "result_keys": [],
        "timings_ms": {},
        "webhook_attempts": 0,
    }
    fields.update(values)
    return TaskRow(**fields)
