"""The scale-out parts that need no worker processes: the upkeep leader (one at a time), the
re-announcing sweeper, and the PostgreSQL change feed between two feeds (as two API processes)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import text

from restyle.auth.accounts import AccountStore
from restyle.tasks import lease, retention
from restyle.tasks.db import Database
from restyle.tasks.leader import UPKEEP_LOCK, FileLeader, create_leader
from restyle.tasks.pg_events import PgChangeFeed, create_feed
from restyle.tasks.queue import TaskQueue
from restyle.tasks.store import TaskStore
from tests.tasks.fixtures import new_task


class RecordingQueue(TaskQueue):
    """A queue that keeps the wake-ups it was given (the interface's smallest real implementation)."""

    name = "recording"

    def __init__(self) -> None:
        self.woken: list[str] = []

    def notify(self, task_id: str) -> None:
        self.woken.append(task_id)


def test_one_upkeep_leader_at_a_time_and_a_successor_after_it(db: Database, tmp_path: Path) -> None:
    first, second = create_leader(db, tmp_path), create_leader(db, tmp_path)
    assert first.check() and not second.check()
    assert first.check()  # keeps the lead
    first.release()
    assert second.check() and not first.check()
    second.release()


def test_a_lock_file_leader_loses_nothing_when_its_holder_dies(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "upkeep.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import fcntl,time; f=open({str(path)!r},'ab'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        leader = FileLeader(path)
        assert not leader.check()
        holder.kill()  # kill -9: the kernel drops the lock
        holder.wait(10)
        assert leader.check()
        leader.release()
    finally:
        holder.kill()


def test_announce_wakes_only_tasks_that_wait_and_can_run(
    store: TaskStore, accounts: AccountStore, db: Database
) -> None:
    busy, free = accounts.create("busy", concurrency=1), accounts.create("free", concurrency=2)
    running = store.insert(new_task(busy.id, seconds_ago=30))[0]
    assert lease.claim(db, "w1", 30) is not None  # busy is now at its limit
    held_back = store.insert(new_task(busy.id, seconds_ago=20))[0]
    waiting = [store.insert(new_task(free.id, seconds_ago=10 - i))[0].id for i in range(3)]
    fresh = store.insert(new_task(free.id))[0]
    queue = RecordingQueue()
    woken = retention.announce(store, queue, older_than_seconds=5, limit=2)
    assert woken == queue.woken == waiting[:2]  # oldest first, at most the limit
    assert running.id not in woken and held_back.id not in woken and fresh.id not in woken


def test_reports_reach_a_feed_in_another_process_through_postgresql(db: Database) -> None:
    if db.is_sqlite:
        assert type(create_feed(db)).__name__ == "ChangeFeed"  # SQLite: in-process only
        return
    other_process = Database(db.url)
    listener, sender = PgChangeFeed(db), PgChangeFeed(other_process)

    async def scenario() -> tuple[Any, bool]:
        listener.bind(asyncio.get_running_loop())
        for feed in (listener, sender):
            await asyncio.to_thread(feed.listening.wait, 10)
        events = listener.subscribe("task-1")
        waiting = asyncio.create_task(listener.wait("task-1", 10))
        await asyncio.sleep(0.1)
        sender.publish("task-1", {"step": "engine", "progress": 0.5})
        step = await asyncio.wait_for(events.get(), 10)
        sender.publish("task-1", None)  # a status change wakes waiters
        return step, await waiting

    try:
        step, woke = asyncio.run(scenario())
    finally:
        listener.close()
        sender.close()
        other_process.dispose()
    assert step == {"step": "engine", "progress": 0.5}
    assert woke is True


def test_has_claimable_follows_the_limits(store: TaskStore, accounts: AccountStore, db: Database) -> None:
    account = accounts.create("one", concurrency=1)
    assert not lease.has_claimable(db)
    store.insert(new_task(account.id, seconds_ago=2))
    store.insert(new_task(account.id, seconds_ago=1))
    assert lease.has_claimable(db)
    assert lease.claim(db, "w1", 30) is not None
    assert not lease.has_claimable(db)  # the second task waits for the account's one slot


def test_a_leader_cut_off_from_postgresql_steps_down_and_another_takes_over(db: Database, tmp_path: Path) -> None:
    if db.is_sqlite:
        return  # the lock file has no connection to lose (see the kill -9 test above)
    from restyle.tasks.leader import PgLeader

    first, second = PgLeader(db), PgLeader(db)
    assert first.check() and not second.check()
    with db.engine.connect() as connection:  # the server ends the leader's session (a restart, a cut)
        held = connection.execute(
            text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = :space AND pid = :pid"),
            {"space": UPKEEP_LOCK, "pid": first._connection.info.backend_pid},
        ).scalar_one()
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": held})
        connection.commit()
    assert not first.check()  # it notices before acting
    assert second.check()
    first.release()
    second.release()
