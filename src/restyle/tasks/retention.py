"""Upkeep: recover tasks whose worker vanished, re-announce tasks whose wake-up was lost, and
delete expired tasks with their files."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from restyle.storage import Storage
from restyle.tasks import lease
from restyle.tasks.db import utcnow
from restyle.tasks.layout import task_prefix
from restyle.tasks.queue import TaskQueue
from restyle.tasks.store import PENDING, TaskStore

log = logging.getLogger(__name__)


def recover(
    store: TaskStore, queue: TaskQueue | None = None, now: datetime | None = None, host: str | None = None
) -> dict[str, list[str]]:
    """Expired leases go back to PENDING (and wake a worker) or, out of attempts, to FAILED.

    With ``host``, tasks held by dead worker processes of that host are recovered at once too.
    """
    if host is not None:
        orphans = lease.expire_orphans(store.db, host, now)
        if orphans:
            log.warning("%d task(s) were held by workers of this host that died; recovering", len(orphans))
    moved = lease.recover_expired(store.db, now)
    for status, task_ids in moved.items():
        if task_ids:
            log.warning("recovered %d task(s) with expired leases -> %s", len(task_ids), status)
    if queue is not None:
        for task_id in moved[PENDING]:
            queue.notify(task_id)
    return moved


def announce(store: TaskStore, queue: TaskQueue, older_than_seconds: float, limit: int = 4) -> list[str]:
    """Wake workers again for claimable tasks that have waited ``older_than_seconds`` (their
    wake-up may be lost, e.g. in a broker restart); a wake-up too many only finds nothing to do."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    task_ids = lease.claimable_ids(store.db, submitted_before=cutoff, limit=limit)
    for task_id in task_ids:
        queue.notify(task_id)
    if task_ids:
        log.info("re-announced %d waiting task(s)", len(task_ids))
    return task_ids


def sweep(
    store: TaskStore,
    storage: Storage,
    now: datetime | None = None,
    retention_hours: float = 24.0,
    changed: Callable[[str], None] | None = None,
) -> int:
    """Fail tasks that expired while PENDING, then delete expired final tasks (files first, then
    rows); returns how many tasks were removed. ``changed`` hears of every task it touched."""
    now = now or utcnow()
    stale = store.fail_stale_pending(now, retention_hours)
    if stale:
        log.warning("retention: %d task(s) expired before a worker took them -> FAILED", len(stale))
    removed = 0
    touched = list(stale)
    while True:
        rows = store.expired(now)
        if not rows:
            break
        for row in rows:
            storage.delete_prefix(task_prefix(row.account_id, row.id))
        removed += store.delete_many([row.id for row in rows])
        touched += [row.id for row in rows]
        log.info("retention: removed %d expired task(s)", len(rows))
    if changed is not None:
        for task_id in touched:
            changed(task_id)
    return removed
