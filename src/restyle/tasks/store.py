"""The task store: create, read, list, cancel and delete task rows (claims live in lease.py).

Every read and change that a caller makes is scoped by ``account_id``: a task of another
account looks exactly like a missing one.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from restyle.domain import TaskStatus
from restyle.errors import Conflict, InvalidParameter, NotFound
from restyle.tasks.db import UNAVAILABLE, Database, unavailable, utcnow
from restyle.tasks.models import TaskRow
from restyle.tasks.positions import QueuePositions

PENDING, RUNNING = TaskStatus.PENDING.value, TaskStatus.RUNNING.value
FINAL = [s.value for s in TaskStatus if s.is_final]
WEBHOOK_GRACE = timedelta(hours=1)  # an expired task waits this long for its webhook to settle
EXPIRED_VISIBLE = timedelta(hours=1)  # a task failed for waiting too long stays readable this long


_PENDING_COUNT = select(func.count()).select_from(TaskRow).where(TaskRow.status == PENDING)


def not_found(task_id: str) -> NotFound:
    return NotFound(f"Task '{task_id}' does not exist or has expired.", code="task.not_found")


def final_values(status: TaskStatus, now: datetime, has_callback: bool | None = None) -> dict[str, Any]:
    """Columns every transition into a final status sets (the webhook becomes due if there is one).

    ``has_callback`` None means "not known here": SQL decides from the row's ``callback_url``.
    """
    webhook_status: Any = "pending" if has_callback else None
    webhook_next_at: Any = now if has_callback else None
    if has_callback is None:
        webhook_status = case((TaskRow.callback_url.is_(None), None), else_="pending")
        webhook_next_at = case((TaskRow.callback_url.is_(None), None), else_=now)
    return {
        "status": status.value,
        "finished_at": now,
        "lease_token": None,
        "lease_expires_at": None,
        "webhook_status": webhook_status,
        "webhook_next_at": webhook_next_at,
    }


def encode_cursor(row: TaskRow) -> str:
    return base64.urlsafe_b64encode(f"{row.submitted_at.isoformat()}|{row.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        moment, task_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        when = datetime.fromisoformat(moment)
        if when.tzinfo is None:
            raise ValueError("a cursor's time has a zone")
        return when, task_id
    except ValueError:  # also bad base64 (binascii.Error) and bad UTF-8
        raise InvalidParameter(
            "Parameter 'cursor' is not a cursor this server returned.", param="cursor"
        ) from None


class TaskStore:
    """Rows of the ``tasks`` table for the API and the fronts."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.positions = QueuePositions()

    def insert(self, row: TaskRow) -> tuple[TaskRow, bool]:
        """Insert ``row``; with an Idempotency-Key already used, the earlier row and False."""
        try:
            with self.db.write() as session:
                session.add(row)
            return row, True
        except IntegrityError:
            if row.idempotency_key is None:
                raise
        existing = self.by_idempotency_key(row.account_id, row.idempotency_key)
        if existing is None:  # the earlier task was deleted in between
            raise Conflict(
                "The Idempotency-Key is in use by a task being deleted; retry.", code="idempotency.busy"
            )
        return existing, False

    def by_idempotency_key(self, account_id: str, key: str) -> TaskRow | None:
        with self.db.read() as session:
            query = select(TaskRow).where(TaskRow.account_id == account_id, TaskRow.idempotency_key == key)
            return session.scalars(query).first()

    def get(self, task_id: str, account_id: str | None = None) -> TaskRow:
        """The row, or NotFound (also when it belongs to another account)."""
        with self.db.read() as session:
            row = session.get(TaskRow, task_id)
        if row is None or (account_id is not None and row.account_id != account_id):
            raise not_found(task_id)
        return row

    def exists(self, task_id: str) -> bool:
        """Whether a row with this id exists (any account)."""
        with self.db.read() as session:
            return session.get(TaskRow, task_id) is not None

    def page(
        self, account_id: str, *, status: TaskStatus | None = None, cursor: str | None = None, limit: int = 20
    ) -> tuple[list[TaskRow], str | None]:
        """Newest first; returns a page and the cursor of the next page (None at the end)."""
        query = select(TaskRow).where(TaskRow.account_id == account_id)
        if status is not None:
            query = query.where(TaskRow.status == status.value)
        if cursor:
            moment, task_id = decode_cursor(cursor)
            query = query.where(
                or_(TaskRow.submitted_at < moment, and_(TaskRow.submitted_at == moment, TaskRow.id < task_id))
            )
        query = query.order_by(TaskRow.submitted_at.desc(), TaskRow.id.desc()).limit(limit + 1)
        with self.db.read() as session:
            rows = list(session.scalars(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1]) if more and rows else None

    def request_cancel(self, task_id: str, account_id: str) -> TaskRow:
        """PENDING becomes CANCELED now; RUNNING gets a cancel flag the worker sees between steps."""
        now = utcnow()
        with self.db.write() as session:
            row = session.get(TaskRow, task_id)
            if row is None or row.account_id != account_id:
                raise not_found(task_id)
            if row.status == PENDING:
                for name, value in final_values(
                    TaskStatus.CANCELED, now, row.callback_url is not None
                ).items():
                    setattr(row, name, value)
                row.error_code, row.error_message = (
                    "task.canceled",
                    "The task was canceled before it started.",
                )
            elif row.status == RUNNING:
                row.cancel_requested = True
            else:
                raise Conflict(
                    f"Task '{task_id}' is already {row.status}; only PENDING or RUNNING tasks can be canceled.",
                    code="task.final",
                )
        return self.get(task_id)

    def delete(self, task_id: str, account_id: str | None = None) -> TaskRow:
        """Remove the row (the caller removes its files); a running worker then finds it gone."""
        with self.db.write() as session:
            row = session.get(TaskRow, task_id)
            if row is None or (account_id is not None and row.account_id != account_id):
                raise not_found(task_id)
            session.delete(row)
        return row

    def expired(self, now: datetime, limit: int = 500) -> list[TaskRow]:
        """Final tasks past their expiry whose webhook is settled (or overdue by WEBHOOK_GRACE).

        PENDING tasks past expiry are failed first (:meth:`fail_stale_pending`); RUNNING ones are
        left to their worker or to lease recovery, so no task vanishes while it is being worked on.
        """
        settled = or_(
            TaskRow.webhook_status.is_(None),
            TaskRow.webhook_status != "pending",
            TaskRow.expires_at < now - WEBHOOK_GRACE,
        )
        with self.db.read() as session:
            query = (
                select(TaskRow)
                .where(TaskRow.expires_at < now, TaskRow.status.in_(FINAL), settled)
                .order_by(TaskRow.expires_at)
                .limit(limit)
            )
            return list(session.scalars(query))

    def fail_stale_pending(self, now: datetime, retention_hours: float) -> list[str]:
        """PENDING tasks past their expiry become FAILED (``task.expired``); their ids.

        They stay readable for ``EXPIRED_VISIBLE`` (at most the retention time) more, so a client
        polling them sees why. The update
        is guarded by ``status = PENDING``: a task a worker claims meanwhile is left alone.
        """
        query = select(TaskRow.id).where(TaskRow.status == PENDING, TaskRow.expires_at < now)
        with self.db.read() as session:
            candidates = list(session.scalars(query))
        if not candidates:
            return []
        values = {
            **final_values(TaskStatus.FAILED, now),
            "error_code": "task.expired",
            "error_message": (
                f"The task waited longer than the retention time ({retention_hours:g} h) without being "
                "started; submit it again."
            ),
            "expires_at": now + min(EXPIRED_VISIBLE, timedelta(hours=retention_hours)),
        }
        statement = (
            update(TaskRow)
            .where(TaskRow.id.in_(candidates), TaskRow.status == PENDING)
            .values(**values)
            .returning(TaskRow.id)
            .execution_options(synchronize_session=False)
        )
        with self.db.write() as session:
            return list(session.scalars(statement))

    def delete_account_tasks(self, account_id: str) -> list[str]:
        """Remove every task row of an account; their ids."""
        with self.db.write() as session:
            ids = list(session.scalars(select(TaskRow.id).where(TaskRow.account_id == account_id)))
            session.execute(delete(TaskRow).where(TaskRow.account_id == account_id))
        return ids

    def delete_many(self, task_ids: Sequence[str]) -> int:
        with self.db.write() as session:
            result = session.execute(delete(TaskRow).where(TaskRow.id.in_(task_ids)))
        return int(getattr(result, "rowcount", 0) or 0)

    def counts_by_status(self) -> dict[str, int]:
        with self.db.read() as session:
            rows = session.execute(select(TaskRow.status, func.count()).group_by(TaskRow.status)).all()
        counts = {s.value: 0 for s in TaskStatus}
        counts.update({status: int(n) for status, n in rows})
        return counts

    def pending_count(self) -> int:
        with self.db.read() as session:
            return int(session.scalar(_PENDING_COUNT) or 0)

    def pending_ahead_of_new(self, account_id: str) -> tuple[int, int]:
        """(PENDING tasks, how many of them a new task of ``account_id`` would wait for), one count
        on the (status, submitted_at) index unless some other account is paused or disabled."""
        with self.db.read() as session:
            pending = int(session.scalar(_PENDING_COUNT) or 0)
            blocked = [other for other in self.positions.blocked_accounts(session) if other != account_id]
            if not blocked:
                return pending, pending
            waiting = _PENDING_COUNT.where(TaskRow.account_id.in_(blocked))
            return pending, pending - int(session.scalar(waiting) or 0)

    def get_with_position(self, task_id: str, account_id: str) -> tuple[TaskRow, int | None]:
        """The row (as :meth:`get`) and its queue position (as :meth:`queue_position`), in one statement."""
        try:  # a Core connection, not a session (see QueuePositions.row_and_position)
            with self.db.engine.connect() as connection:
                found = self.positions.row_and_position(connection, task_id)
        except UNAVAILABLE as exc:
            raise unavailable() from exc
        if found is None or found[0].account_id != account_id:
            raise not_found(task_id)
        return found

    def queue_position(self, row: TaskRow) -> int | None:
        """How many PENDING tasks will run before this one (0 = next), None unless PENDING.

        Workers take the oldest task of an account under its limit, so these are the older PENDING
        tasks of accounts that may run at all (see :mod:`restyle.tasks.positions`).
        """
        if row.status != PENDING:
            return None
        with self.db.read() as session:
            return self.positions.of(session, row.id)

    def finished_since(self, moment: datetime, limit: int = 20000) -> list[TaskRow]:
        """Final tasks whose end time is at or after ``moment``, oldest first (for metrics)."""
        with self.db.read() as session:
            query = (
                select(TaskRow)
                .where(TaskRow.finished_at >= moment, TaskRow.status.in_(FINAL))
                .order_by(TaskRow.finished_at, TaskRow.id)
                .limit(limit)
            )
            return list(session.scalars(query))
