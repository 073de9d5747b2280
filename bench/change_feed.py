"""How fast a worker's report reaches a waiter in another API process (PostgreSQL NOTIFY), against
the in-process feed in the same run (baseline) and the 1 s re-read that waiters fall back to.

Two feeds on one database stand for two processes: one publishes, the other's subscriber receives.

    python bench/change_feed.py [--events 300]   -> bench/reports/change_feed.md
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable

from common import REPORTS, machine, table
from sqlalchemy import create_engine, text

from restyle.tasks.db import Database
from restyle.tasks.events import ChangeFeed
from restyle.tasks.pg_events import PgChangeFeed

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


async def latencies(listener: ChangeFeed, publish: Callable[[str, dict[str, object]], None], events: int) -> list[float]:
    """Milliseconds from publish (in a thread, as workers do) to delivery to the subscriber."""
    listener.bind(asyncio.get_running_loop())
    queue = listener.subscribe("bench-task")
    found = []
    for index in range(events):
        started = time.perf_counter()
        await asyncio.to_thread(publish, "bench-task", {"step": "engine", "progress": index / events})
        await asyncio.wait_for(queue.get(), 10)
        found.append((time.perf_counter() - started) * 1000)
    listener.unsubscribe("bench-task", queue)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    name = f"restyle_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    api_db, worker_db = Database(url), Database(url)
    rows: list[list[object]] = []
    try:
        local = ChangeFeed()
        baseline = asyncio.run(latencies(local, local.publish, args.events))
        listener, sender = PgChangeFeed(api_db), PgChangeFeed(worker_db)
        for feed in (listener, sender):
            feed.listening.wait(10)
        across = asyncio.run(latencies(listener, sender.publish, args.events))
        listener.close()
        sender.close()
        base_p50 = statistics.median(baseline)
        for label, values in (("in-process feed (baseline)", baseline), ("PostgreSQL NOTIFY, another process", across)):
            ordered = sorted(values)
            p50, p99 = statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]
            rows.append([label, len(values), round(p50, 2), round(p99, 2), round(p50 / base_p50, 1)])
        rows.append(["no feed: a re-read each second (expected, not measured)", "-", 500.0, 990.0, round(500.0 / base_p50, 1)])
    finally:
        api_db.dispose()
        worker_db.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    report = (
        "# Change feed latency\n\n"
        f"`python bench/change_feed.py --events {args.events}`: a report published from a thread (as a worker does) "
        "until the subscriber of another feed on the same database receives it; the in-process feed measured in the "
        "same run is the baseline of the x column, and the last row is what a waiter without a feed waits on "
        "average/at worst (one re-read per second). Machine: " + machine() + " (2 cores shared with other "
        "engineers' jobs during the run: figures are noisy).\n\n"
        + table(["feed", "events", "p50 ms", "p99 ms", "p50 x baseline"], rows)
        + "\n"
    )
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "change_feed.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
