"""Reading the truth of a test's cluster: task rows straight from its PostgreSQL database."""

from __future__ import annotations

import time
from collections.abc import Collection
from pathlib import Path

from sqlalchemy import select

from restyle.tasks.db import Database
from restyle.tasks.models import TaskRow

FINAL = {"SUCCEEDED", "FAILED", "CANCELED"}


def all_tasks(pg_url: str) -> list[TaskRow]:
    db = Database(pg_url)
    try:
        with db.read() as session:
            return list(session.scalars(select(TaskRow).order_by(TaskRow.submitted_at)))
    finally:
        db.dispose()


def wait_all_final(pg_url: str, expected: int, timeout: float) -> list[TaskRow]:
    """Every task row once ``expected`` rows exist and all are final (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = all_tasks(pg_url)
        if len(rows) >= expected and all(row.status in FINAL for row in rows):
            return rows
        if time.monotonic() > deadline:
            states = sorted((row.status, row.attempts) for row in rows)
            raise AssertionError(f"tasks not all final after {timeout:g} s ({len(rows)}/{expected}): {states}")
        time.sleep(0.25)


def output_files(data_dir: Path, rows: Collection[TaskRow]) -> dict[str, list[str]]:
    """The output files each task left in local storage (every attempt's, if any were left)."""
    found = {}
    for row in rows:
        folder = data_dir / "files" / "tasks" / row.account_id / row.id / "output"
        found[row.id] = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    return found
