"""Claims and leases: how workers take tasks, keep them, finish them, and how lost ones return.

A claim picks the oldest PENDING task whose account runs fewer tasks than its concurrency
limit, so two workers never take the same task nor push an account over its limit:

- SQLite: one write transaction (``BEGIN IMMEDIATE``) serializes every claim.
- PostgreSQL: claims run side by side. SKIP LOCKED alone cannot keep a count-based limit (two
  claims that skip each other's rows both see the account under its limit), so each attempt runs
  three steps: 1. ``SELECT ... FOR UPDATE SKIP LOCKED`` locks the oldest eligible task that no
  other claim is taking; 2. that task's account advisory lock is taken, which serializes claims
  of one account only; 3. under it, the account's RUNNING count is read again (a new READ
  COMMITTED snapshot: it sees every claim the previous holder committed) and the task is taken
  only if the account has room and no older task of the account is still PENDING (another claim
  holds that one and goes first). Otherwise the attempt ends, releasing its locks, and the next
  one reads afresh. So one account never runs over its limit, its tasks start oldest first, and
  a claim never passes over an older eligible task unless another claim is taking it. A claim
  holds at most one account lock, and the holder of an account lock never waits on a row lock,
  so claims cannot deadlock.

Every later write names the lease token; a worker whose lease was taken over (expired and
recovered) can no longer change the row, so a task never shows two results.
"""

from __future__ import annotations

import enum
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from restyle.auth.models import AccountRow
from restyle.domain import TaskStatus
from restyle.tasks.db import Database, utcnow
from restyle.tasks.models import TaskRow
from restyle.tasks.store import PENDING, RUNNING, final_values

_ACCOUNT_LOCKS = 0x7273_7479  # advisory-lock namespace of per-account claim locks on PostgreSQL
_CLAIM_ATTEMPTS = 50  # attempts while concurrent claims keep taking the chosen task first


class LeaseState(enum.Enum):
    """What a worker learns when it checks its task between steps."""

    HELD = "held"
    CANCEL_REQUESTED = "cancel_requested"
    LOST = "lost"  # lease expired and taken over, or the task was deleted


@dataclass(frozen=True)
class Claim:
    """A claimed task and the token that proves the lease."""

    task: TaskRow
    token: str


def _running(account_id: Any) -> Any:
    other = aliased(TaskRow)
    return (
        select(func.count())
        .where(other.account_id == account_id, other.status == RUNNING)
        .scalar_subquery()
    )


def _claimable() -> Select[TaskRow]:
    """The oldest PENDING task of an enabled account under its concurrency limit."""
    return (
        select(TaskRow)
        .join(AccountRow, AccountRow.id == TaskRow.account_id)
        .where(
            TaskRow.status == PENDING,
            _running(TaskRow.account_id).correlate(TaskRow) < AccountRow.concurrency,
            AccountRow.disabled.is_(False),
        )
        .order_by(TaskRow.submitted_at, TaskRow.id)
        .limit(1)
    )


def _take(row: TaskRow, worker_id: str, lease_seconds: float) -> str:
    token = str(uuid.uuid4())
    now = utcnow()  # after the locks: start times follow the order in which claims really happen
    row.status = RUNNING
    row.attempts += 1
    row.lease_token = token
    row.lease_expires_at = now + timedelta(seconds=lease_seconds)
    row.worker_id = worker_id[:100]
    row.scheduled_at = row.scheduled_at or now
    row.started_at = now
    row.step, row.progress = None, 0.0
    return token


def _may_take(session: Session, row: TaskRow) -> bool:
    """Under the account's lock (PostgreSQL): its RUNNING count, read again now, is under its limit,
    and no older task of the account is still PENDING (another claim holds it and goes first)."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:account))"),
        {"space": _ACCOUNT_LOCKS, "account": row.account_id},
    )
    older = (
        select(TaskRow.id)
        .where(
            TaskRow.account_id == row.account_id,
            TaskRow.status == PENDING,
            or_(
                TaskRow.submitted_at < row.submitted_at,
                and_(TaskRow.submitted_at == row.submitted_at, TaskRow.id < row.id),
            ),
        )
        .exists()
    )
    # one statement after the lock, so one snapshot taken after the previous holder committed
    query = select(AccountRow.concurrency, AccountRow.disabled, _running(row.account_id), older).where(
        AccountRow.id == row.account_id
    )
    found = session.execute(query).first()
    if found is None:
        return False
    concurrency, disabled, running, older_waiting = found
    return not disabled and not older_waiting and int(running) < int(concurrency)


def has_claimable(db: Database) -> bool:
    """Whether some PENDING task could be claimed now (an account under its limit)."""
    return bool(claimable_ids(db, limit=1))


def claimable_ids(db: Database, *, submitted_before: datetime | None = None, limit: int = 1) -> list[str]:
    """The ids of the oldest claimable PENDING tasks (submitted before ``submitted_before``)."""
    query = _claimable().with_only_columns(TaskRow.id).limit(limit)
    if submitted_before is not None:
        query = query.where(TaskRow.submitted_at < submitted_before)
    with db.read() as session:
        return list(session.scalars(query))


def claim(db: Database, worker_id: str, lease_seconds: float) -> Claim | None:
    """Take the oldest PENDING task of an enabled account under its concurrency limit, or None."""
    if db.is_sqlite:
        with db.write() as session:  # BEGIN IMMEDIATE: the query's counts cannot change under it
            row = session.scalars(_claimable()).first()
            if row is None:
                return None
            token = _take(row, worker_id, lease_seconds)
        return Claim(row, token)
    locked = _claimable().with_for_update(of=TaskRow, skip_locked=True)
    for _ in range(_CLAIM_ATTEMPTS):
        with db.write() as session:
            # 1. the oldest eligible task that no other claim is taking, now locked by this one
            row = session.scalars(locked).first()
            if row is None:
                return None
            # 2. + 3. under the account's lock: room under its limit, and no older task of it waiting
            if not _may_take(session, row):
                continue
            token = _take(row, worker_id, lease_seconds)
        return Claim(row, token)
    return None  # claims kept racing for the same tasks: the caller polls again soon


def _update_held(db: Database, task_id: str, token: str, values: dict[str, Any]) -> bool:
    """Apply ``values`` only while ``token`` still holds the task's lease."""
    statement = (
        update(TaskRow)
        .where(TaskRow.id == task_id, TaskRow.lease_token == token, TaskRow.status == RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    with db.write() as session:
        result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0) == 1


def heartbeat(db: Database, task_id: str, token: str, lease_seconds: float) -> bool:
    """Extend the lease; False when it is no longer held."""
    return _update_held(db, task_id, token, {"lease_expires_at": utcnow() + timedelta(seconds=lease_seconds)})


def report_progress(db: Database, task_id: str, token: str, step: str, fraction: float) -> bool:
    return _update_held(db, task_id, token, {"step": step, "progress": round(fraction, 4)})


def lease_state(db: Database, task_id: str, token: str) -> LeaseState:
    with db.read() as session:
        row = session.execute(
            select(TaskRow.lease_token, TaskRow.status, TaskRow.cancel_requested).where(TaskRow.id == task_id)
        ).first()
    if row is None or row.lease_token != token or row.status != RUNNING:
        return LeaseState.LOST
    return LeaseState.CANCEL_REQUESTED if row.cancel_requested else LeaseState.HELD


def finish(db: Database, task_id: str, token: str, status: TaskStatus, **values: Any) -> bool:
    """Move a held task to a final status with ``values``; False if the lease was lost."""
    values = {**values, **final_values(status, utcnow())}
    return _update_held(db, task_id, token, values)


def release(db: Database, task_id: str, token: str) -> bool:
    """Give a held task back to the queue unharmed (worker shutdown): PENDING, attempt not counted."""
    values = {
        "status": PENDING,
        "attempts": TaskRow.attempts - 1,
        "lease_token": None,
        "lease_expires_at": None,
        "worker_id": None,
        "step": None,
        "progress": 0.0,
    }
    return _update_held(db, task_id, token, values)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but someone else's
        return True
    return True


def host_identity() -> str:
    """This host and PID namespace, as worker ids start: two containers that share a hostname but
    not their process ids must not take each other's workers for dead."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        namespace = "?"
    return f"{socket.gethostname()}#{namespace}"


def local_worker_id(index: int) -> str:
    """``host#pidns:pid:index``, the id a worker process of this host claims tasks with."""
    return f"{host_identity()}:{os.getpid()}:{index}"


def expire_orphans(db: Database, host: str, now: datetime | None = None) -> list[str]:
    """End the leases of RUNNING tasks held by worker processes of ``host`` that no longer exist.

    ``host`` is a :func:`host_identity`; worker ids are ``host:pid:index``. After a crash and
    restart these tasks need not wait for their lease to run out; :func:`recover_expired` then
    moves them. A pid that was reused by another process only means waiting for the lease.
    """
    now = now or utcnow()
    prefix = f"{host}:"
    with db.read() as session:
        rows = session.execute(select(TaskRow.id, TaskRow.worker_id).where(TaskRow.status == RUNNING)).all()
    orphans: dict[str, str] = {}
    for task_id, worker_id in rows:
        if not worker_id or not str(worker_id).startswith(prefix):
            continue
        pid = str(worker_id)[len(prefix) :].partition(":")[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            orphans[task_id] = str(worker_id)
    expired = []
    for task_id, worker_id in orphans.items():
        statement = (
            update(TaskRow)
            .where(TaskRow.id == task_id, TaskRow.status == RUNNING, TaskRow.worker_id == worker_id)
            .values(lease_expires_at=now - timedelta(seconds=1))
            .execution_options(synchronize_session=False)
        )
        with db.write() as session:
            if int(getattr(session.execute(statement), "rowcount", 0) or 0):
                expired.append(task_id)
    return expired


def recover_expired(db: Database, now: datetime | None = None) -> dict[str, list[str]]:
    """RUNNING tasks whose lease expired: back to PENDING, or FAILED once out of attempts.

    Returns the task ids by new status.
    """
    now = now or utcnow()
    moved: dict[str, list[str]] = {PENDING: [], TaskStatus.FAILED.value: [], TaskStatus.CANCELED.value: []}
    query = select(TaskRow).where(TaskRow.status == RUNNING, TaskRow.lease_expires_at < now)
    with db.read() as session:  # the common case, nothing expired, takes no write lock
        if session.scalars(query.with_only_columns(TaskRow.id)).first() is None:
            return moved
    # FOR UPDATE (SKIP LOCKED) on PostgreSQL: a worker's finish that commits first makes the row
    # fail the re-checked WHERE (no longer RUNNING); one that comes later finds its token cleared
    locked = query.with_for_update(skip_locked=True)
    with db.write() as session:
        for row in session.scalars(locked):
            if row.cancel_requested or row.attempts >= row.max_attempts:
                status = TaskStatus.CANCELED if row.cancel_requested else TaskStatus.FAILED
                for name, value in final_values(status, now, row.callback_url is not None).items():
                    setattr(row, name, value)
                if status is TaskStatus.FAILED:
                    row.error_code = "task.lost"
                    row.error_message = (
                        f"The worker running this task stopped {row.attempts} times (attempt limit "
                        f"{row.max_attempts}); the task was not retried again."
                    )
                else:
                    row.error_code, row.error_message = "task.canceled", "The task was canceled."
            else:
                row.status = PENDING
                row.lease_token = row.lease_expires_at = row.worker_id = row.step = None
                row.progress = 0.0
                status = TaskStatus.PENDING
            moved[status.value].append(row.id)
    return moved
