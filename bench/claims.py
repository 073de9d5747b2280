"""Claim throughput of the task store: how many tasks per second racing workers can take and finish.

Compares, in one run on the same PostgreSQL database, the claim that PostgreSQL uses now (a
per-account advisory lock plus ``FOR UPDATE SKIP LOCKED``, :func:`restyle.tasks.lease.claim`)
with the one it replaced (the same query under one global advisory lock: every claim waits for
every other), and SQLite's ``BEGIN IMMEDIATE``. Tasks take no time here, so the figures are the
store's own ceiling. Each run checks that no account ever ran more tasks than its limit.

    python bench/claims.py [--tasks 600] [--accounts 20]   -> bench/reports/claims.md
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from common import REPORTS, machine, table
from sqlalchemy import create_engine, text

from restyle.auth.accounts import AccountStore
from restyle.config import LimitSettings
from restyle.domain import TaskStatus
from restyle.tasks import lease
from restyle.tasks.db import Database, utcnow
from restyle.tasks.models import TaskRow

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GLOBAL_LOCK = 0x7265_7374_796C_6502  # the constant the replaced claim serialized on
Claimer = Callable[[Database, str, float], "lease.Claim | None"]


def claim_global_lock(db: Database, worker_id: str, lease_seconds: float) -> lease.Claim | None:
    """The replaced PostgreSQL claim (baseline): the same query under one global advisory lock."""
    with db.write() as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": GLOBAL_LOCK})
        row = session.scalars(lease._claimable()).first()
        if row is None:
            return None
        token = lease._take(row, worker_id, lease_seconds)
    return lease.Claim(row, token)


def fill(db: Database, tasks: int, accounts: int) -> None:
    store = AccountStore(db, LimitSettings())
    ids = [store.create(f"bench-{i}", concurrency=2).id for i in range(accounts)]
    now = utcnow()
    with db.write() as session:
        for index in range(tasks):
            moment = now - timedelta(seconds=tasks - index)
            session.add(
                TaskRow(
                    id=str(uuid.uuid4()), account_id=ids[index % accounts], front="native",
                    status="PENDING", params={}, inputs={}, submitted_at=moment,
                    expires_at=moment + timedelta(hours=1), attempts=0, max_attempts=3,
                    cancel_requested=False, progress=0.0, result_keys=[], timings_ms={}, webhook_attempts=0,
                )
            )


def run(db: Database, claimer: Claimer, workers: int) -> tuple[float, float, int]:
    """Workers claim and finish until nothing is left: (tasks per second, CPU ms per task, peak
    RUNNING tasks of one account seen right after a claim)."""
    done = [0]
    peak = [0]
    lock = threading.Lock()

    def work(name: str) -> None:
        while (taken := claimer(db, name, 30)) is not None:
            with db.read() as session:
                running = session.execute(
                    text("SELECT count(*) FROM tasks WHERE account_id = :a AND status = 'RUNNING'"),
                    {"a": taken.task.account_id},
                ).scalar_one()
            assert lease.finish(db, taken.task.id, taken.token, TaskStatus.SUCCEEDED, result_keys=[])
            with lock:
                done[0] += 1
                peak[0] = max(peak[0], int(running))

    cpu, wall = time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return done[0] / wall, cpu * 1000 / max(1, done[0]), peak[0]


def pg_database() -> tuple[str, Callable[[], None]]:
    name = f"restyle_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=600)
    parser.add_argument("--accounts", type=int, default=20)
    args = parser.parse_args()
    rows: list[list[object]] = []
    url, drop = pg_database()
    sqlite_dir = Path(tempfile.mkdtemp(prefix="claims-"))
    try:
        cases: list[tuple[str, str, Claimer]] = [
            ("PostgreSQL, global advisory lock (replaced; baseline)", url, claim_global_lock),
            ("PostgreSQL, per-account lock + SKIP LOCKED (now)", url, lease.claim),
            ("SQLite, BEGIN IMMEDIATE", f"sqlite:///{sqlite_dir / 'bench.db'}", lease.claim),
        ]
        baseline: dict[int, float] = {}
        for workers in (1, 4, 8):
            for label, database_url, claimer in cases:
                db = Database(database_url, pool_size=workers + 2)
                db.migrate()
                with db.write() as session:
                    session.execute(text("DELETE FROM tasks"))
                    session.execute(text("DELETE FROM accounts"))
                fill(db, args.tasks, args.accounts)
                rate, cpu_ms, peak = run(db, claimer, workers)
                db.dispose()
                assert peak <= 2, f"{label}: an account ran {peak} tasks with a limit of 2"
                baseline.setdefault(workers, rate)
                rows.append([label, workers, round(rate), round(rate / baseline[workers], 2), round(cpu_ms, 2), peak])
                print(rows[-1], flush=True)
    finally:
        drop()
    headers = ["claim", "workers (threads)", "tasks/s", "x baseline", "CPU ms/task (all threads)", "peak RUNNING/account (limit 2)"]
    report = (
        "# Claim throughput of the task store\n\n"
        f"`python bench/claims.py --tasks {args.tasks} --accounts {args.accounts}`: {args.tasks} zero-length tasks over "
        f"{args.accounts} accounts (concurrency 2 each), claimed and finished by racing threads until none is left; "
        "the x column is the ratio to the replaced claim (global advisory lock) at the same thread count, "
        "in the same run. Machine: " + machine() + " (2 cores shared with other engineers' jobs during the run: "
        "figures are noisy; compare ratios).\n\n" + table(headers, rows) + "\n"
    )
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "claims.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
