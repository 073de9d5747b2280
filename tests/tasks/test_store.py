"""The task store on SQLite and PostgreSQL: rows, cancel, delete, paging, idempotency, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import restyle.auth.models  # noqa: F401
from restyle.auth.accounts import AccountStore
from restyle.domain import TaskStatus
from restyle.errors import Conflict, InvalidParameter, NotFound
from restyle.storage.local import LocalStorage
from restyle.tasks import lease, retention
from restyle.tasks.db import Base, Database, utcnow
from restyle.tasks.store import TaskStore
from tests.tasks.fixtures import new_task


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    db.migrate()  # a second run is a no-op


def test_insert_get_and_isolation(store: TaskStore, accounts: AccountStore) -> None:
    alice, bob = accounts.create("alice"), accounts.create("bob")
    row, created = store.insert(new_task(alice.id))
    assert created
    got = store.get(row.id, alice.id)
    assert got.status == "PENDING" and got.submitted_at.tzinfo is not None
    with pytest.raises(NotFound) as foreign:
        store.get(row.id, bob.id)
    with pytest.raises(NotFound) as missing:
        store.get("no-such-task", bob.id)
    assert foreign.value.message == missing.value.message.replace("no-such-task", row.id)
    with pytest.raises(NotFound):
        store.request_cancel(row.id, bob.id)
    with pytest.raises(NotFound):
        store.delete(row.id, bob.id)


def test_idempotency_key_returns_the_first_row(store: TaskStore, accounts: AccountStore) -> None:
    alice, bob = accounts.create("alice"), accounts.create("bob")
    first, created = store.insert(new_task(alice.id, idempotency_key="k1", fingerprint="f"))
    again, created_again = store.insert(new_task(alice.id, idempotency_key="k1", fingerprint="f"))
    assert created and not created_again and again.id == first.id
    other, created_other = store.insert(new_task(bob.id, idempotency_key="k1"))  # keys are per account
    assert created_other and other.id != first.id


def test_cancel_pending_running_and_final(store: TaskStore, accounts: AccountStore, db: Database) -> None:
    alice = accounts.create("alice", concurrency=5)
    pending, _ = store.insert(new_task(alice.id))
    canceled = store.request_cancel(pending.id, alice.id)
    assert canceled.status == "CANCELED" and canceled.error_code == "task.canceled" and canceled.finished_at
    running, _ = store.insert(new_task(alice.id))
    claim = lease.claim(db, "w", 30)
    assert claim is not None and claim.task.id == running.id
    flagged = store.request_cancel(running.id, alice.id)
    assert flagged.status == "RUNNING" and flagged.cancel_requested
    assert lease.lease_state(db, running.id, claim.token) is lease.LeaseState.CANCEL_REQUESTED
    with pytest.raises(Conflict) as final:
        store.request_cancel(pending.id, alice.id)
    assert final.value.code == "task.final" and "already CANCELED" in final.value.message


def test_list_is_newest_first_with_cursor_and_status(store: TaskStore, accounts: AccountStore) -> None:
    alice, bob = accounts.create("alice"), accounts.create("bob")
    ids = [store.insert(new_task(alice.id, seconds_ago=10 - i))[0].id for i in range(5)]
    store.insert(new_task(bob.id))
    store.request_cancel(ids[0], alice.id)
    page1, cursor = store.page(alice.id, limit=2)
    page2, cursor2 = store.page(alice.id, limit=2, cursor=cursor)
    page3, cursor3 = store.page(alice.id, limit=2, cursor=cursor2)
    assert [r.id for r in page1 + page2 + page3] == ids[::-1]
    assert cursor3 is None
    canceled, _ = store.page(alice.id, status=TaskStatus.CANCELED)
    assert [r.id for r in canceled] == [ids[0]]
    with pytest.raises(InvalidParameter):
        store.page(alice.id, cursor="not-a-cursor")


def test_counts_positions_and_finished_since(store: TaskStore, accounts: AccountStore, db: Database) -> None:
    alice = accounts.create("alice", concurrency=0)
    first, _ = store.insert(new_task(alice.id, seconds_ago=2))
    second, _ = store.insert(new_task(alice.id, seconds_ago=1))
    assert store.queue_position(store.get(first.id)) == 0
    assert store.queue_position(store.get(second.id)) == 1
    assert store.pending_count() == 2
    before = utcnow()
    store.request_cancel(first.id, alice.id)
    assert store.counts_by_status()["CANCELED"] == 1 and store.counts_by_status()["PENDING"] == 1
    assert store.queue_position(store.get(second.id)) == 0
    assert [r.id for r in store.finished_since(before)] == [first.id]


def test_sweep_deletes_expired_tasks_and_their_files(
    store: TaskStore, accounts: AccountStore, tmp_path
) -> None:
    storage = LocalStorage(tmp_path / "files")
    alice = accounts.create("alice")
    past = utcnow() - timedelta(seconds=1)
    old, _ = store.insert(new_task(alice.id, status="SUCCEEDED", finished_at=past, expires_at=past))
    fresh, _ = store.insert(new_task(alice.id))
    for row in (old, fresh):
        storage.put(f"tasks/{alice.id}/{row.id}/input/image", b"x")
    assert retention.sweep(store, storage) == 1
    with pytest.raises(NotFound):
        store.get(old.id)
    assert not storage.exists(f"tasks/{alice.id}/{old.id}/input/image")
    assert storage.exists(f"tasks/{alice.id}/{fresh.id}/input/image")
    # the fresh task expires waiting: failed first and readable a while, then removed
    later = utcnow() + timedelta(days=2)
    changed: list[str] = []
    assert retention.sweep(store, storage, now=later, changed=changed.append) == 0
    assert store.get(fresh.id).error_code == "task.expired" and changed == [fresh.id]
    assert retention.sweep(store, storage, now=later + timedelta(hours=2)) == 1
    assert store.counts_by_status()["PENDING"] == store.counts_by_status()["FAILED"] == 0


def test_sweep_never_removes_running_work_or_an_undelivered_webhook(
    store: TaskStore, accounts: AccountStore, tmp_path
) -> None:
    storage = LocalStorage(tmp_path / "files")
    alice = accounts.create("alice")
    past = utcnow() - timedelta(minutes=1)
    running, _ = store.insert(new_task(alice.id, status="RUNNING", expires_at=past))
    waiting, _ = store.insert(new_task(alice.id, expires_at=past, callback_url="http://127.0.0.1:9/hook"))
    done, _ = store.insert(
        new_task(alice.id, status="SUCCEEDED", expires_at=past, finished_at=past, webhook_status="pending",
                 callback_url="http://127.0.0.1:9/hook")
    )
    assert retention.sweep(store, storage, retention_hours=24) == 0
    assert store.get(running.id).status == "RUNNING"  # its worker or lease recovery finishes it
    stale = store.get(waiting.id)  # expired before any worker took it: failed, its webhook still due
    assert stale.status == "FAILED" and stale.error_code == "task.expired" and "24 h" in (stale.error_message or "")
    assert stale.webhook_status == "pending"
    assert store.get(done.id).status == "SUCCEEDED"
    # once the webhooks have had their grace period, both go
    assert retention.sweep(store, storage, now=utcnow() + timedelta(hours=3)) == 2
    assert store.get(running.id).status == "RUNNING"


def test_queue_position_skips_tasks_of_paused_or_disabled_accounts(store: TaskStore, accounts: AccountStore) -> None:
    paused, disabled, busy = accounts.create("paused", concurrency=0), accounts.create("off"), accounts.create("busy")
    accounts.update(disabled.id, disabled=True)
    mine = accounts.create("mine")
    for account, seconds in ((paused, 9), (disabled, 8), (busy, 7)):
        store.insert(new_task(account.id, seconds_ago=seconds))
    first, _ = store.insert(new_task(mine.id, seconds_ago=6))
    second, _ = store.insert(new_task(mine.id, seconds_ago=5))
    assert store.queue_position(store.get(first.id)) == 1  # only busy's older task runs first
    assert store.queue_position(store.get(second.id)) == 2
    from restyle.tasks import lease

    taken = [lease.claim(store.db, f"w{i}", 30) for i in range(3)]  # the positions tell the truth
    assert [c.task.account_id if c else None for c in taken] == [busy.id, mine.id, None]


def test_an_expiring_task_that_a_worker_claims_meanwhile_is_left_alone(
    store: TaskStore, accounts: AccountStore, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from restyle.tasks import lease

    alice = accounts.create("alice")
    task, _ = store.insert(new_task(alice.id, expires_at=utcnow() - timedelta(seconds=1)))
    real_write = db.write
    claimed: list[object] = []

    def write_after_a_claim():  # type: ignore[no-untyped-def]
        if not claimed:  # a worker takes the task between the sweeper's read and its write
            claimed.append(None)
            claimed[0] = lease.claim(db, "w1", 30)
        return real_write()

    monkeypatch.setattr(db, "write", write_after_a_claim)
    assert store.fail_stale_pending(utcnow(), 24) == []
    assert claimed[0] is not None and store.get(task.id).status == "RUNNING"
