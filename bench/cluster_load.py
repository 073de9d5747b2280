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
import base64
import multiprocessing as mp
import os
import random
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import httpx
from common import REPORTS, machine, square, table

from restyle.commands.cluster import Cluster, start, start_worker, stop_all
from restyle.devcluster.processes import kill, read_pid
from restyle.samples import load_sample

RETRYABLE = {429, 502, 503, 504}


@dataclass
class Run:
    """What the clients saw."""

    keys: dict[str, set[str]] = field(default_factory=dict)  # Idempotency-Key -> task ids answered
    final: dict[str, dict[str, Any]] = field(default_factory=dict)  # task id -> its last JSON
    submit_ms: list[float] = field(default_factory=list)
    poll_ms: list[float] = field(default_factory=list)
    submit_errors: Counter[str] = field(default_factory=Counter)
    refused: int = 0  # submits that never got a task id (a 4xx, or the retry budget spent)
    kills: list[tuple[float, str]] = field(default_factory=list)
    first_submit: float = 0.0
    last_final: float = 0.0


def photo(side: int) -> str:
    ok, data = cv2.imencode(
        ".jpg", square(load_sample("astronaut"), side)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90]
    )
    assert ok
    return base64.b64encode(data.tobytes()).decode()


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
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        chaos = asyncio.create_task(killer(run_dir, cluster, run, args.kills, args.tasks, args.workers))
        await asyncio.gather(*(client(http, cluster, run, todo, body) for _ in range(args.clients)))
        chaos.cancel()
    return run


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


def _raw_worker(side: int, style: str, images: int, queue: Any) -> None:
    from restyle.domain import GenerateRequest, ImageSource
    from restyle.pipeline import Pipeline

    cv2.setNumThreads(1)
    pipeline = Pipeline()
    pipeline.setup()
    data = base64.b64decode(photo(side))
    pipeline.render(GenerateRequest(image=ImageSource(data=data), style=style, seed=0))  # warm
    queue.put("ready")
    started = time.process_time()
    for seed in range(images):
        pipeline.render(GenerateRequest(image=ImageSource(data=data), style=style, seed=seed + 1))
    queue.put(time.process_time() - started)


def raw_pipeline(side: int, style: str, images: int, processes: int) -> tuple[float, float]:
    """Images per second of the bare pipeline in ``processes`` processes, and CPU s per image."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_raw_worker, args=(side, style, images, queue)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    for _ in procs:
        assert queue.get(timeout=600) == "ready"
    started = time.monotonic()
    cpu = [queue.get(timeout=1800) for _ in procs]
    wall = time.monotonic() - started
    for proc in procs:
        proc.join()
    return images * processes / wall, sum(cpu) / (images * processes)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else (values[0] if values else 0.0)


def report(
    args: argparse.Namespace, run: Run, rows: list[Any], objects: Counter[str], raw: tuple[float, float]
) -> str:
    accepted = {task_id for ids in run.keys.values() for task_id in ids}
    finished = [run.final[t] for t in accepted if t in run.final]
    succeeded = [t for t in finished if t["status"] == "SUCCEEDED"]
    lost = len(accepted) - len(finished)
    two_ids = sum(1 for ids in run.keys.values() if len(ids) > 1)
    rows_per_key = Counter(row[1] for row in rows if row[1] is not None)
    extra_rows = sum(count - 1 for count in rows_per_key.values() if count > 1)
    unanswered = sum(1 for key in rows_per_key if key not in run.keys)  # made, but the client gave up
    row_attempts = {row[0]: row[2] for row in rows}
    two_results = sum(1 for t in succeeded if len(t["result"]["images"]) != 1)
    orphans = sum(count - 1 for task_id, count in objects.items() if count > 1)
    wall = max(1e-9, run.last_final - run.first_submit)
    rate = len(succeeded) / wall
    failures = Counter((t["error"] or {}).get("code", "?") for t in finished if t["status"] != "SUCCEEDED")
    lines = [
        "# Cluster load (bench/cluster_load.py)",
        "",
        f"Machine: {machine()}. The 2 cores are shared with other engineers' jobs during the run: figures are "
        "noisy; the raw pipeline baseline ran in the same session on the same cores, with the cluster stopped.",
        "",
        f"Cluster: `make cluster` (2 API processes behind the round-robin proxy, {args.workers} Celery workers x 1 "
        f"process, PostgreSQL task store, Redis broker and limits, moto S3 storage). Load: {args.tasks} tasks "
        f"from {args.clients} clients (submit, poll every 0.5 s to the end, next), style `{args.style}`, "
        f"{args.side}x{args.side} JPEG input, JPEG output; {args.kills} random worker kill -9 during the run, "
        "each worker started again 1 s later.",
        "",
        table(
            [
                "accepted",
                "finished",
                "succeeded",
                "failed",
                "lost",
                "duplicated",
                "re-run after a kill",
                "refused",
            ],
            [
                [
                    len(accepted),
                    len(finished),
                    len(succeeded),
                    len(finished) - len(succeeded),
                    lost,
                    two_ids + extra_rows + two_results,
                    sum(1 for a in row_attempts.values() if a > 1),
                    run.refused,
                ]
            ],
        ),  # fmt: skip
        "",
        f"Duplicated = keys answered with two task ids ({two_ids}) + task rows beyond one per key ({extra_rows}) + "
        f"tasks showing more than one result ({two_results}). Tasks made for a submit whose client gave up: "
        f"{unanswered}. Result objects of superseded attempts left in the "
        f"bucket (not visible through the API): {orphans}. Failure codes: {dict(failures) or 'none'}. "
        f"Submit errors seen and retried: {dict(run.submit_errors) or 'none'}.",
        "",
        table(
            ["latency ms", "n", "p50", "p99", "max"],
            [
                [
                    "submit",
                    len(run.submit_ms),
                    pct(run.submit_ms, 50),
                    pct(run.submit_ms, 99),
                    max(run.submit_ms, default=0),
                ],
                [
                    "poll",
                    len(run.poll_ms),
                    pct(run.poll_ms, 50),
                    pct(run.poll_ms, 99),
                    max(run.poll_ms, default=0),
                ],
            ],
        ),  # fmt: skip
        "",
        table(
            ["throughput", "images/s", "ratio to raw"],
            [
                ["cluster, end to end (first submit to last result)", rate, rate / raw[0]],
                [f"raw pipeline, {args.workers} processes, same cores", raw[0], 1.0],
            ],
        ),  # fmt: skip
        "",
        f"Raw pipeline CPU per image: {raw[1] * 1000:.0f} ms. Wall time of the load: {wall:.0f} s.",
        "",
        "Kills: " + ("; ".join(f"{t:.0f} s: {what}" for t, what in run.kills) or "none"),
        "",
    ]
    return "\n".join(lines)


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
