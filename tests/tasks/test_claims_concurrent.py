"""Claims racing each other (threads on SQLite; side by side on PostgreSQL with SKIP LOCKED) keep
every account's concurrency limit, and a dead database answers StoreUnavailable."""

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import create_engine, text

from restyle.auth.accounts import AccountStore
from restyle.domain import TaskStatus
from restyle.errors import StoreUnavailable
from restyle.tasks import lease
from restyle.tasks.db import Database
from restyle.tasks.store import TaskStore
from tests.tasks.fixtures import new_task


def _race(db: Database, workers: int) -> list[lease.Claim]:
    """``workers`` threads claim once each, all released at the same moment."""
    start = threading.Barrier(workers)
    claims: list[lease.Claim] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        start.wait()
        taken = lease.claim(db, f"w{index}", 30)
        if taken is not None:
            with lock:
                claims.append(taken)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return claims


def test_racing_claims_keep_each_accounts_limit(store: TaskStore, accounts: AccountStore, db: Database) -> None:
    two, one = accounts.create("two", concurrency=2), accounts.create("one", concurrency=1)
    for i in range(6):
        store.insert(new_task(two.id, seconds_ago=20 - i))
        store.insert(new_task(one.id, seconds_ago=10 - i))
    for _round in range(3):
        claims = _race(db, 8)
        by_account = [c.task.account_id for c in claims]
        assert sorted(by_account) == sorted([two.id, two.id, one.id])
        assert len({c.task.id for c in claims}) == 3
        # the oldest tasks of each account went first
        for account_id in (two.id, one.id):
            running = store.page(account_id, status=TaskStatus.RUNNING)[0]
            pending = store.page(account_id, status=TaskStatus.PENDING)[0]
            if pending:
                assert max(r.submitted_at for r in running) < min(p.submitted_at for p in pending)
        for taken in claims:
            assert lease.finish(db, taken.task.id, taken.token, TaskStatus.SUCCEEDED, result_keys=[])


def test_a_claim_neither_waits_behind_a_held_row_nor_jumps_the_order(
    store: TaskStore, accounts: AccountStore, db: Database
) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite serializes claims with BEGIN IMMEDIATE; row locks are PostgreSQL's")
    account = accounts.create("many", concurrency=5)
    oldest = store.insert(new_task(account.id, seconds_ago=5))[0]
    store.insert(new_task(account.id, seconds_ago=1))
    holder = create_engine(db.url)
    with holder.connect() as connection, connection.begin():
        # another change (say a cancel) holds the oldest row: the claim does not block on it (SKIP
        # LOCKED) and does not take the newer task ahead of it either
        connection.execute(text("SELECT id FROM tasks WHERE id = :id FOR UPDATE"), {"id": oldest.id})
        assert lease.claim(db, "w1", 30) is None
    holder.dispose()
    again = lease.claim(db, "w2", 30)
    assert again is not None and again.task.id == oldest.id


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_database_is_store_unavailable() -> None:
    db = Database(
        f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test", pool_size=1, pool_timeout=1
    )
    with pytest.raises(StoreUnavailable) as caught, db.read() as session:
        session.execute(text("SELECT 1"))
    assert caught.value.status == 503 and caught.value.retry_after > 0
    db.dispose()
