"""Cluster load: N tasks from 32 clients against ``make cluster`` with random worker kills.

Starts the cluster of ``restyle.commands.cluster`` (Redis, PostgreSQL, moto S3, 2 API processes
behind a proxy, 2 Celery workers) in ``data/cluster-bench``, unless ``--attach RUN_DIR`` names a
running one. Each client submits a task (with an Idempotency-Key, retried with the same key on a
connection error, 429 or 503), polls it to its end, and takes the next. Meanwhile ``--kills`` times a
random worker gets kill -9 (its pool too) and is started again, as a supervisor would.

Counts: accepted, finished, lost (accepted, never final: must be 0), duplicated (a key answered
with two task ids, more task rows than keys, or more than one result object visible per task: must
be 0); latency p50/p99 of submits and polls; images per second end to end over the raw pipeline's
on the same cores (the same work in as many processes as there are workers, cluster stopped).
Writes bench/reports/cluster.md.

Usage: python bench/cluster_load.py [--tasks 2000] [--clients 32] [--kills 5] [--side 256] [--style fresh]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from cluster_report import CpuMeter, Run, photo, raw_pipeline, report
from common import REPORTS

from restyle.commands.cluster import Cluster, start, start_worker, stop_all
from restyle.devcluster.processes import kill, read_pid

RETRYABLE = {429, 502, 503, 504}


async def client(
    http: httpx.AsyncClient, cluster: Cluster, run: Run, todo: asyncio.Queue[int], body: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {cluster.api_key}", "Prefer": "respond-async"}
    while not todo.empty():
        number = todo.get_nowait()
        key = uuid.uuid4().hex
        task_id = await submit(
            http, cluster, run, {**headers, "Idempotency-Key": key}, {**body, "seed": number}
        )
        if task_id is None:
            run.refused += 1
            continue
        run.keys.setdefault(key, set()).add(task_id)
        await poll(http, cluster, run, headers, task_id)


async def submit(
    http: httpx.AsyncClient, cluster: Cluster, run: Run, headers: dict[str, str], body: dict[str, Any]
) -> str | None:
    for attempt in range(30):
        started = time.perf_counter()
        try:
            answer = await http.post(cluster.url + "/v1/tasks", json=body, headers=headers)
        except httpx.HTTPError as exc:
            run.submit_errors[type(exc).__name__] += 1
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
            continue
        run.submit_ms.append((time.perf_counter() - started) * 1000)
        if answer.status_code in (200, 201, 202):
            run.first_submit = run.first_submit or time.monotonic()
            return str(answer.json()["id"])
        run.submit_errors[str(answer.status_code)] += 1
        if answer.status_code not in RETRYABLE:
            return None
        await asyncio.sleep(float(answer.headers.get("Retry-After", 0.5)))
    return None


async def poll(
    http: httpx.AsyncClient, cluster: Cluster, run: Run, headers: dict[str, str], task_id: str
) -> None:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        started = time.perf_counter()
        try:
            answer = await http.get(f"{cluster.url}/v1/tasks/{task_id}", headers=headers)
        except httpx.HTTPError:
            continue
        run.poll_ms.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            continue
        task = answer.json()
        if task["status"] in ("SUCCEEDED", "FAILED", "CANCELED"):
            run.final[task_id] = task
            run.last_final = time.monotonic()
            return


async def killer(run_dir: Path, cluster: Cluster, run: Run, kills: int, total: int, workers: int) -> None:
    """kill -9 a random worker when the finished share passes each of ``kills`` random marks."""
    marks = sorted(random.uniform(0.1, 0.85) for _ in range(kills))
    started = time.monotonic()
    for mark in marks:
        while len(run.final) < mark * total:
            await asyncio.sleep(0.2)
        index = busy_worker(run_dir, cluster, workers) or random.randint(1, workers)
        if kill(run_dir / f"worker-{index}.pid") is not None:
            run.kills.append((time.monotonic() - started, f"worker-{index} at {len(run.final)} finished"))
        await asyncio.sleep(1.0)
        start_worker(run_dir, cluster, index)  # a supervisor starts it again


def busy_worker(run_dir: Path, cluster: Cluster, workers: int) -> int | None:
    """A worker (its index) whose pool runs a task now: the kill then interrupts real work."""
    import psycopg

    url = cluster.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        owners = [
            row[0] for row in connection.execute("SELECT worker_id FROM tasks WHERE status = 'RUNNING'")
        ]
    groups = {read_pid(run_dir / f"worker-{i}.pid"): i for i in range(1, workers + 1)}
    busy = []
    for owner in owners:  # worker ids are host:pid:index; a pool process is in its worker's group
        try:
            busy.append(groups.get(os.getpgid(int(str(owner).split(":")[-2]))))
        except (ValueError, IndexError, ProcessLookupError):
            continue
    found = [index for index in busy if index is not None]
    return random.choice(found) if found else None


async def load(run_dir: Path, cluster: Cluster, args: argparse.Namespace) -> Run:
    run = Run()
    todo: asyncio.Queue[int] = asyncio.Queue()
    for number in range(args.tasks):
        todo.put_nowait(number)
    body = {"image": {"base64": photo(args.side)}, "style": args.style, "output_format": "jpeg"}
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    meter = CpuMeter(run_dir)
    meter.sample()
    sampler = asyncio.create_task(sample_cpu(meter))
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        chaos = asyncio.create_task(killer(run_dir, cluster, run, args.kills, args.tasks, args.workers))
        await asyncio.gather(*(client(http, cluster, run, todo, body) for _ in range(args.clients)))
        chaos.cancel()
    sampler.cancel()
    meter.sample()
    run.cluster_cpu_seconds = meter.seconds()
    run.cpu_by_role = {role: meter.seconds(role) for role in sorted(set(meter.role.values()))}
    return run


async def sample_cpu(meter: CpuMeter) -> None:
    """Sample every second, so a killed worker's CPU up to its kill is counted."""
    while True:
        await asyncio.sleep(1.0)
        meter.sample()


def task_rows(cluster: Cluster) -> list[tuple[str, str | None, int, list[str] | None]]:
    """(id, idempotency key, attempts, result keys) of every task row of the bench's account."""
    import psycopg

    url = cluster.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        return list(
            connection.execute("SELECT id, idempotency_key, attempts, result_keys FROM tasks").fetchall()
        )


def output_objects(cluster: Cluster) -> Counter[str]:
    """How many result objects each task has in the bucket (superseded attempts included)."""
    from restyle.devcluster.s3server import S3Endpoint

    client = S3Endpoint(cluster.s3_url).client()
    counts: Counter[str] = Counter()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="restyle", Prefix="tasks/"):
        for item in page.get("Contents", []):
            parts = item["Key"].split("/")
            if len(parts) > 3 and parts[3] == "output":
                counts[parts[2]] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--side", type=int, default=256)
    parser.add_argument("--style", default="fresh")
    parser.add_argument("--raw-images", type=int, default=30, help="images per process of the raw baseline")
    parser.add_argument("--attach", type=Path, help="use the cluster running from this run dir")
    parser.add_argument("--run-dir", type=Path, default=Path("data/cluster-bench"))
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    random.seed(args.seed)
    run_dir = args.attach or args.run_dir
    if args.attach:
        cluster = Cluster.load(run_dir)
    else:
        cluster = start(argparse.Namespace(
            run_dir=run_dir, port=0, apis=2, workers=args.workers, worker_concurrency=1, redis_port=6379,
            redis_db=11, pg_port=5432, database="restyle_cluster_bench", qps=10000.0, concurrency=64, timeout=300.0,
        ))  # fmt: skip
    try:
        run = asyncio.run(load(run_dir, cluster, args))
        rows, objects = task_rows(cluster), output_objects(cluster)
    finally:
        if not args.attach:
            stop_all(run_dir)
    raw = raw_pipeline(args.side, args.style, args.raw_images, args.workers)
    text = report(args, run, rows, objects, raw)
    (REPORTS / "cluster.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
