"""Fixtures of the fault tests: the machine's PostgreSQL (a database of its own per test, dropped
afterwards) and Redis (a DB number and queue prefix of their own), and a cluster factory.

Without PostgreSQL or Redis these tests skip, unless CI=true: then they fail.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from restyle.auth.accounts import AccountStore
from restyle.auth.keys import KeyStore
from restyle.auth.serverkey import ServerKey
from restyle.config import LimitSettings
from restyle.tasks.db import Database
from tests.distributed.cluster import Cluster

PG_ADMIN = os.environ.get("RESTYLE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 9  # DB 9: away from the default DB 0

pytestmark = pytest.mark.services


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def services_up() -> None:
    missing = [
        name
        for name, port in (("PostgreSQL", 5432), ("Redis", REDIS_PORT))
        if not _reachable("127.0.0.1", port)
    ]
    if missing:
        message = f"{' and '.join(missing)} not reachable on 127.0.0.1"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " and CI=true requires them.")
        pytest.skip(message)


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database, migrated; dropped at the end (with its open connections)."""
    name = f"restyle_dist_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    db.migrate()
    db.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url(services_up: None) -> Iterator[str]:
    with fresh_database() as url:
        yield url


def cluster_env(pg_url: str, redis_url: str) -> dict[str, str]:
    """Settings every process of a test's cluster shares (short leases so recovery is quick)."""
    return {
        "RESTYLE_TASKS__DATABASE_URL": pg_url,
        "RESTYLE_WORKERS__QUEUE": "celery",
        "RESTYLE_WORKERS__BROKER_URL": redis_url,
        "RESTYLE_WORKERS__QUEUE_PREFIX": f"t{uuid.uuid4().hex[:10]}",  # this test's queues only
        "RESTYLE_LIMITS__STORAGE_URI": redis_url,
        "RESTYLE_TASKS__LEASE_SECONDS": "3",
        "RESTYLE_TASKS__HEARTBEAT_SECONDS": "0.5",
        "RESTYLE_AUTH__DEMO_ACCOUNT": "false",
        "RESTYLE_SAFETY__ENABLED": "false",  # NudeNet is not under test here; workers start faster
        "RESTYLE_SERVER__LOG_LEVEL": "warning",
        "OMP_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
    }


@pytest.fixture
def shared_redis_url(services_up: None) -> str:
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"


def new_cluster(data_dir: Path, pg_url: str, redis_url: str) -> Cluster:
    ServerKey.load_or_create(data_dir)  # before any process starts: they all read this one
    return Cluster(data_dir, cluster_env(pg_url, redis_url))


@pytest.fixture
def make_cluster(tmp_path: Path, pg_url: str) -> Iterator[Callable[[str], Cluster]]:
    """Builds the test's cluster on its database and a Redis URL; kills every process at the end."""
    clusters: list[Cluster] = []

    def build(redis_url: str) -> Cluster:
        cluster = new_cluster(tmp_path / "data", pg_url, redis_url)
        clusters.append(cluster)
        return cluster

    yield build
    for cluster in clusters:
        cluster.close()


def new_account(pg_url: str, data_dir: Path, name: str, *, qps: float = 100.0, concurrency: int = 4) -> str:
    """An account with these limits and its API key."""
    db = Database(pg_url)
    try:
        account = AccountStore(db, LimitSettings()).create(name, qps=qps, concurrency=concurrency)
        return KeyStore(db, ServerKey.load_or_create(data_dir)).issue(account).api_key
    finally:
        db.dispose()
