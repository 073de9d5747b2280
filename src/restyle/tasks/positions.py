"""Queue positions: how many PENDING tasks run before a task, cheap enough to answer on every poll.

Workers take the oldest task of an account under its limit, so a PENDING task waits for the older
PENDING tasks of its own account and of every account that may run at all (not paused with
concurrency 0, not disabled). The count reads only the ``(status, submitted_at)`` index, as a
column of the same statement that reads the row. The paused or disabled accounts (few, usually
none) are looked up at most once per ``BLOCKED_SECONDS`` per process, at once after a change made
in this process (:func:`restyle.auth.accounts.changed`), and their older tasks subtracted.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, or_, select
from sqlalchemy import inspect as inspect_mapping
from sqlalchemy.orm import Session, aliased

from restyle.auth.accounts import generation
from restyle.auth.models import AccountRow
from restyle.domain import TaskStatus
from restyle.tasks.models import TaskRow

PENDING = TaskStatus.PENDING.value
BLOCKED_SECONDS = 1.0  # another process's pause of an account shows in positions within this time

_other = aliased(TaskRow)


def _older(*where: Any) -> Any:
    """How many PENDING tasks (``_other``) meet ``where``, for the outer statement's task."""
    query = select(func.count()).select_from(_other).where(_other.status == PENDING, *where)
    return query.correlate(TaskRow).scalar_subquery()


# two counts, not one with OR, so that each is a range of the (status, submitted_at) index
_EARLIER = _older(_other.submitted_at < TaskRow.submitted_at)
_SAME_MOMENT = _older(_other.submitted_at == TaskRow.submitted_at, _other.id < TaskRow.id)
_AHEAD = or_(
    _other.submitted_at < TaskRow.submitted_at,
    and_(_other.submitted_at == TaskRow.submitted_at, _other.id < TaskRow.id),
)
_BLOCKED = select(AccountRow.id).where(or_(AccountRow.concurrency <= 0, AccountRow.disabled.is_(True)))
_UNBLOCKED_POSITION = case((TaskRow.status == PENDING, _EARLIER + _SAME_MOMENT), else_=None)
BY_ID: Any = bindparam("task_id")
# (attribute, column) of every column of a task row, to build rows from a Core result
_COLUMNS = [(attribute.key, attribute.columns[0]) for attribute in inspect_mapping(TaskRow).column_attrs]


class QueuePositions:
    """Builds the queue-position column of a statement over ``TaskRow`` (one per process)."""

    def __init__(self) -> None:
        self._blocked: tuple[float, int, tuple[str, ...]] = (0.0, -1, ())
        self._row_queries: dict[tuple[str, ...], Any] = {}

    def blocked_accounts(self, session: Session | Connection) -> tuple[str, ...]:
        until, seen, accounts = self._blocked
        if seen == generation() and time.monotonic() < until:
            return accounts
        seen = generation()
        accounts = tuple(session.scalars(_BLOCKED))
        self._blocked = (time.monotonic() + BLOCKED_SECONDS, seen, accounts)
        return accounts

    def column(self, session: Session | Connection) -> Any:
        """The position of the statement's task: an int while PENDING, else NULL."""
        blocked = self.blocked_accounts(session)
        if not blocked:
            return _UNBLOCKED_POSITION
        waiting = _older(_other.account_id.in_(blocked), _other.account_id != TaskRow.account_id, _AHEAD)
        return case((TaskRow.status == PENDING, _EARLIER + _SAME_MOMENT - waiting), else_=None)

    def row_and_position(self, connection: Connection, task_id: str) -> tuple[TaskRow, int | None] | None:
        """(row, position) of a task in one statement, or None when there is no such task.

        Read with Core and built as a detached row: a third of the ORM session's cost per poll."""
        blocked = self.blocked_accounts(connection)
        query = self._row_queries.get(blocked)
        if query is None:
            if len(self._row_queries) > 8:
                self._row_queries.clear()
            query = select(*(column for _, column in _COLUMNS), self.column(connection)).where(
                TaskRow.id == BY_ID
            )
            self._row_queries[blocked] = query
        found = connection.execute(query, {"task_id": task_id}).first()
        if found is None:
            return None
        row = TaskRow(**{key: value for (key, _), value in zip(_COLUMNS, found, strict=False)})
        return row, found[-1]

    def of(self, session: Session, task_id: str) -> int | None:
        """The position of a task by id (None when it is not PENDING or not there)."""
        query = select(self.column(session)).where(TaskRow.id == BY_ID)
        position = session.scalar(query, {"task_id": task_id})
        return None if position is None else int(position)
