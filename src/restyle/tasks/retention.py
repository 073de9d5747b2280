"""Upkeep: recover tasks whose worker vanished, and delete expired tasks with their files."""

from __future__ import annotations

import logging
from datetime import datetime

from restyle.storage import Storage
from restyle.tasks import lease
from restyle.tasks.db import utcnow
from restyle.tasks.layout import task_prefix
from restyle.tasks.queue import TaskQueue
from restyle.tasks.store import PENDING, TaskStore

log = logging.getLogger(__name__)


def recover(
    store: TaskStore, queue: TaskQueue | None = None, now: datetime | None = None
) -> dict[str, list[str]]:
    """Expired leases go back to PENDING (and wake a worker) or, out of attempts, to FAILED."""
    moved = lease.recover_expired(store.db, now)
    for status, task_ids in moved.items():
        if task_ids:
            log.warning("recovered %d task(s) with expired leases -> %s", len(task_ids), status)
    if queue is not None:
        for task_id in moved[PENDING]:
            queue.notify(task_id)
    return moved


def sweep(store: TaskStore, storage: Storage, now: datetime | None = None) -> int:
    """Delete expired tasks (files first, then rows); returns how many tasks were removed."""
    now = now or utcnow()
    removed = 0
    while True:
        rows = store.expired(now)
        if not rows:
            return removed
        for row in rows:
            storage.delete_prefix(task_prefix(row.account_id, row.id))
        removed += store.delete_many([row.id for row in rows])
        log.info("retention: removed %d expired task(s)", len(rows))
