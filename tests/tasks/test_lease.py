"""Claims, fairness, leases, heartbeats and recovery on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from restyle.auth.accounts import AccountStore
from restyle.domain import TaskStatus
from restyle.tasks import lease, retention
from restyle.tasks.db import Database, utcnow
from restyle.tasks.store import TaskStore
from tests.tasks.fixtures import new_task


def test_claims_take_the_oldest_task_of_an_account_under_its_limit(
    store: TaskStore, accounts: AccountStore, db: Database
) -> None:
    busy, other = accounts.create("busy", concurrency=1), accounts.create("other", concurrency=1)
    busy_tasks = [store.insert(new_task(busy.id, seconds_ago=10 - i))[0].id for i in range(3)]
    other_task = store.insert(new_task(other.id, seconds_ago=1))[0].id
    first, second = lease.claim(db, "w1", 30), lease.claim(db, "w2", 30)
    assert first is not None and second is not None
    # the busy account's second task is older, but the account already runs its one allowed task
    assert (first.task.id, second.task.id) == (busy_tasks[0], other_task)
    assert lease.claim(db, "w3", 30) is None
    assert lease.finish(db, first.task.id, first.token, TaskStatus.SUCCEEDED, result_keys=["k"])
    third = lease.claim(db, "w1", 30)
    assert third is not None and third.task.id == busy_tasks[1]
    assert third.task.attempts == 1 and third.task.scheduled_at is not None


def test_concurrency_limit_of_two_and_zero(store: TaskStore, accounts: AccountStore, db: Database) -> None:
    two, paused = accounts.create("two", concurrency=2), accounts.create("paused", concurrency=0)
    store.insert(new_task(paused.id, seconds_ago=5))
    for i in range(3):
        store.insert(new_task(two.id, seconds_ago=3 - i))
    claimed = [lease.claim(db, f"w{i}", 30) for i in range(3)]
    assert [c is not None for c in claimed] == [True, True, False]
    assert {c.task.account_id for c in claimed if c} == {two.id}


def test_parallel_claims_never_share_a_task(store: TaskStore, accounts: AccountStore, db: Database) -> None:
    account = accounts.create("many", concurrency=100)
    ids = {store.insert(new_task(account.id))[0].id for _ in range(12)}
    taken: list[str] = []
    lock = threading.Lock()

    def work(worker: str) -> None:
        while (claim := lease.claim(db, worker, 30)) is not None:
            with lock:
                taken.append(claim.task.id)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(ids)


def test_only_the_lease_holder_writes_and_recovery_is_bounded(
    store: TaskStore, accounts: AccountStore, db: Database
) -> None:
    account = accounts.create("a")
    task = store.insert(new_task(account.id, max_attempts=2))[0]
    first = lease.claim(db, "w1", 30)
    assert first is not None
    assert lease.heartbeat(db, task.id, first.token, 30)
    assert retention.recover(store, now=utcnow())["PENDING"] == []  # lease still valid
    moved = retention.recover(store, now=utcnow() + timedelta(seconds=60))
    assert moved["PENDING"] == [task.id]
    # the first worker comes back too late: it can neither heartbeat, report nor finish
    assert not lease.heartbeat(db, task.id, first.token, 30)
    assert lease.lease_state(db, task.id, first.token) is lease.LeaseState.LOST
    second = lease.claim(db, "w2", 30)
    assert second is not None and second.task.attempts == 2
    assert not lease.finish(db, task.id, first.token, TaskStatus.SUCCEEDED, result_keys=["stale"])
    moved = retention.recover(store, now=utcnow() + timedelta(seconds=60))
    assert moved["FAILED"] == [task.id]
    failed = store.get(task.id)
    assert failed.status == "FAILED" and failed.error_code == "task.lost" and failed.result_keys == []
    assert "2 times" in (failed.error_message or "")


def test_recovering_a_task_asked_to_cancel_cancels_it(
    store: TaskStore, accounts: AccountStore, db: Database
) -> None:
    account = accounts.create("a")
    task = store.insert(new_task(account.id))[0]
    assert lease.claim(db, "w1", 30) is not None
    store.request_cancel(task.id, account.id)
    assert retention.recover(store, now=utcnow() + timedelta(seconds=60))["CANCELED"] == [task.id]
    assert store.get(task.id).status == "CANCELED"


def test_release_gives_the_task_back_without_counting_the_attempt(
    store: TaskStore, accounts: AccountStore, db: Database
) -> None:
    account = accounts.create("a")
    task = store.insert(new_task(account.id))[0]
    claim = lease.claim(db, "w1", 30)
    assert claim is not None and lease.report_progress(db, task.id, claim.token, "engine", 0.35)
    assert store.get(task.id).step == "engine"
    assert lease.release(db, task.id, claim.token)
    back = store.get(task.id)
    assert (back.status, back.attempts, back.lease_token, back.step) == ("PENDING", 0, None, None)


def test_finish_marks_the_webhook_due_only_with_a_callback(
    store: TaskStore, accounts: AccountStore, db: Database
) -> None:
    account = accounts.create("a", concurrency=2)
    with_callback = store.insert(new_task(account.id, seconds_ago=1, callback_url="http://127.0.0.1:9/x"))[0]
    without = store.insert(new_task(account.id))[0]
    for _ in range(2):
        claim = lease.claim(db, "w", 30)
        assert claim is not None
        assert lease.finish(
            db, claim.task.id, claim.token, TaskStatus.FAILED, error_code="x", error_message="y"
        )
    assert store.get(with_callback.id).webhook_status == "pending"
    assert store.get(without.id).webhook_status is None


def test_tasks_of_dead_workers_of_this_host_are_recovered_at_once(
    store: TaskStore, accounts: AccountStore, db: Database
) -> None:
    import os
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    alice = accounts.create("alice", concurrency=3)
    lease_until = utcnow() + timedelta(minutes=10)
    held = {
        name: store.insert(
            new_task(alice.id, status="RUNNING", worker_id=worker, lease_expires_at=lease_until, attempts=1)
        )[0].id
        for name, worker in (
            ("dead", f"hostA:{gone.pid}:0"),
            ("alive", f"hostA:{os.getpid()}:1"),
            ("elsewhere", f"hostB:{gone.pid}:0"),
        )
    }
    moved = retention.recover(store, host="hostA")
    assert moved["PENDING"] == [held["dead"]]
    assert store.get(held["dead"]).status == "PENDING"
    assert store.get(held["alive"]).status == store.get(held["elsewhere"]).status == "RUNNING"
    assert retention.recover(store)["PENDING"] == []  # without a host only expired leases move


def test_local_worker_ids_carry_host_and_pid_namespace() -> None:
    import os

    worker_id = lease.local_worker_id(3)
    assert worker_id == f"{lease.host_identity()}:{os.getpid()}:3" and "#" in lease.host_identity()
