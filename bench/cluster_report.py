"""The cluster load bench's measures: what the clients saw, CPU of the cluster's processes, the raw
pipeline baseline on the same cores, and the report (bench/reports/cluster.md). Used by cluster_load.py."""

from __future__ import annotations

import argparse
import base64
import multiprocessing as mp
import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
from common import machine, square, table

from restyle.devcluster.processes import read_pid
from restyle.samples import load_sample

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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
    cluster_cpu_seconds: float = 0.0
    cpu_by_role: dict[str, float] = field(default_factory=dict)


def photo(side: int) -> str:
    ok, data = cv2.imencode(
        ".jpg", square(load_sample("astronaut"), side)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90]
    )
    assert ok
    return base64.b64encode(data.tobytes()).decode()


class CpuMeter:
    """CPU seconds used by the cluster's processes: every process in the groups its pid files name
    (API processes, workers and their pools, moto, the proxy; not the machine's PostgreSQL and Redis)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.role: dict[int, str] = {}  # pid -> api, worker, s3, proxy

    def sample(self) -> None:
        groups = {read_pid(f): f.stem.split("-")[0] for f in self.run_dir.glob("*.pid")}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            role = groups.get(int(fields[2]))  # field 5: the process group
            if role is not None:
                pid, cpu = int(stat.parent.name), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
                self.first.setdefault(pid, cpu)
                self.last[pid] = cpu
                self.role[pid] = role

    def seconds(self, role: str | None = None) -> float:
        return sum(self.last[p] - self.first[p] for p in self.last if role is None or self.role[p] == role)


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
    cpu_ms = run.cluster_cpu_seconds * 1000 / max(1, len(succeeded))
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
        table(
            ["CPU per image", "ms", "ratio to raw"],
            [
                [
                    "cluster processes (APIs, workers, moto, proxy; not PostgreSQL/Redis)",
                    cpu_ms,
                    cpu_ms / (raw[1] * 1000),
                ],
                ["raw pipeline", raw[1] * 1000, 1.0],
            ],
        ),  # fmt: skip
        "",
        "Cluster CPU per image by part: "
        + ", ".join(
            f"{role} {sec * 1000 / max(1, len(succeeded)):.0f} ms"
            for role, sec in sorted(run.cpu_by_role.items())
        )
        + ". CPU time moves less with the other jobs on the machine than wall time does. "
        f"Wall time of the load: {wall:.0f} s.",
        "",
        "Kills: " + ("; ".join(f"{t:.0f} s: {what}" for t, what in run.kills) or "none"),
        "",
    ]
    return "\n".join(lines)
