"""API load: N concurrent clients against a real ``restyle serve`` on loopback, versus the raw engine.

For each client count: submitted and finished tasks per second, p50/p95/p99 of submit and of poll
latency, and the overhead ratio = end-to-end images per second through the API over the raw
pipeline's images per second on the same number of worker processes (target >= 0.9).
The clients share the tasks: each submits its share (``Prefer: respond-async``), then polls them to the end.
Writes bench/reports/api.md.

Usage: python bench/api_load.py [--clients 1,2,4,8] [--sync-clients 4,8] [--tasks 40] [--workers N] [--size 256] [--poll 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from api_hot_path import SECTION as HOT_PATH_SECTION
from api_hot_path import section_of
from common import REPORTS, machine, single_thread, square, table

STYLE = "sketch"
_PIPELINE: Any = None


def percentile(values: list[float], q: float) -> float | str:
    ordered = sorted(values)
    if not ordered:
        return "-"
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def photo(side: int) -> bytes:
    from restyle.imaging.codecs import encode_image
    from restyle.samples import load_sample

    return encode_image(square(load_sample("astronaut"), side))


# ---- raw engine: the same pipeline in W spawned processes, no HTTP, no store -----------------------


def _raw_init(data: bytes) -> None:
    global _PIPELINE
    single_thread()
    from restyle.domain import GenerateRequest, ImageSource
    from restyle.pipeline import Pipeline

    _PIPELINE = (Pipeline(), GenerateRequest(image=ImageSource(data=data), style=STYLE, seed=1))
    _PIPELINE[0].setup()
    _PIPELINE[0].render(_PIPELINE[1])  # warm caches


def _raw_render(_index: int) -> float:
    """CPU seconds of one render."""
    start = time.process_time()
    _PIPELINE[0].render(_PIPELINE[1])
    return time.process_time() - start


def raw_run(pool: Any, tasks: int) -> tuple[float, float]:
    """(images per second, CPU seconds per image)."""
    start = time.perf_counter()
    cpu = pool.map(_raw_render, range(tasks), chunksize=1)
    return tasks / (time.perf_counter() - start), sum(cpu) / tasks


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(CPU seconds of ``pid``, CPU seconds of its live children) from /proc."""
    tick = os.sysconf("SC_CLK_TCK")

    def of(stat: Path) -> tuple[int, float]:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / tick

    own, children = 0.0, 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent, seconds = of(stat)
        except (OSError, ValueError, IndexError):
            continue
        if stat.parent.name == str(pid):
            own = seconds
        elif parent == pid:
            children += seconds
    return own, children


# ---- the service -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def restyle(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "restyle"
    base = (
        [str(script)] if script.exists() else [sys.executable, "-c", "from restyle.cli import main; main()"]
    )
    return base + list(args)


def start_server(data_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
        "RESTYLE_SERVER__LOG_LEVEL": "warning",
    }
    command = restyle("serve", "--data-dir", str(data_dir), "--port", str(port), "--workers", str(workers))
    server = subprocess.Popen(
        command + ["--no-access-log"], stdout=subprocess.DEVNULL, env=env, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("restyle serve did not become ready")
        time.sleep(0.2)


async def client(
    http: httpx.AsyncClient, data: bytes, budget: list[int], poll: float, stats: dict[str, list[float]]
) -> None:
    """Submit until the shared budget is spent, then poll this client's tasks (oldest first) to the end."""
    files = {"image": ("photo.png", data, "image/png")}
    if poll <= 0:  # sync: the submit itself waits for the result (the API's default)
        while budget[0] > 0:
            budget[0] -= 1
            start = time.perf_counter()
            response = await http.post("/v1/tasks", files=files, data={"style": STYLE})
            stats["submit"].append(time.perf_counter() - start)
            if response.status_code != 200 or response.json()["status"] != "SUCCEEDED":
                raise SystemExit(f"submit failed: {response.status_code} {response.text}")
            stats["finished"].append(datetime.fromisoformat(response.json()["finished_at"]).timestamp())
        stats["submitted"].append(time.perf_counter())
        return
    mine: list[str] = []
    while budget[0] > 0:
        budget[0] -= 1
        start = time.perf_counter()
        response = await http.post(
            "/v1/tasks", files=files, data={"style": STYLE}, headers={"Prefer": "respond-async"}
        )
        stats["submit"].append(time.perf_counter() - start)
        if response.status_code != 202:
            raise SystemExit(f"submit failed: {response.status_code} {response.text}")
        mine.append(response.json()["id"])
    stats["submitted"].append(time.perf_counter())
    while mine:
        await asyncio.sleep(poll)
        start = time.perf_counter()
        task = (await http.get(f"/v1/tasks/{mine[0]}")).json()
        stats["poll"].append(time.perf_counter() - start)
        if task["status"] in ("FAILED", "CANCELED"):
            raise SystemExit(f"task failed: {task['error']}")
        if task["status"] == "SUCCEEDED":
            mine.pop(0)
            stats["finished"].append(datetime.fromisoformat(task["finished_at"]).timestamp())


async def load(base: str, api_key: str, data: bytes, clients: int, tasks: int, poll: float) -> dict[str, Any]:
    stats: dict[str, list[float]] = {"submit": [], "poll": [], "finished": [], "submitted": []}
    headers = {"Authorization": f"Bearer {api_key}"}
    limits = httpx.Limits(max_connections=clients * 2)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120, limits=limits) as http:
        budget = [tasks]
        wall_start, start = time.time(), time.perf_counter()
        await asyncio.gather(*(client(http, data, budget, poll, stats) for _ in range(clients)))
    return {
        **stats,
        "submit_seconds": max(stats["submitted"]) - start,
        # the server's own end time of the last task: not delayed by the clients' poll interval
        "finish_seconds": max(stats["finished"]) - wall_start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--clients", default="1,2,4,8", help="client counts of the async (submit + poll) runs"
    )
    parser.add_argument("--sync-clients", default="4,8", help="client counts of the sync (submit waits) runs")
    parser.add_argument("--tasks", type=int, default=40, help="tasks per client count")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--size", type=int, default=256, help="side of the square test photo")
    parser.add_argument("--poll", type=float, default=0.2, help="seconds between a client's polls")
    parser.add_argument("--out", type=Path, default=REPORTS / "api.md")
    args = parser.parse_args()
    single_thread()
    data = photo(args.size)
    load_before = os.getloadavg()

    raw_pool = mp.get_context("spawn").Pool(args.workers, initializer=_raw_init, initargs=(data,))
    raw_pool.map(_raw_render, range(args.workers))  # every raw process warm before timing
    data_dir = Path(tempfile.mkdtemp(prefix="restyle-bench-"))
    port = free_port()
    server = start_server(data_dir, port, args.workers)
    try:
        created = subprocess.run(
            restyle(
                "keys",
                "create",
                "--name",
                "bench",
                "--qps",
                "1000",
                "--concurrency",
                "1000",
                "--json",
                "--data-dir",
                str(data_dir),
            ),
            capture_output=True,
            text=True,
            check=True,
        )
        api_key = json.loads(created.stdout)["api_key"]
        base = f"http://127.0.0.1:{port}"
        asyncio.run(load(base, api_key, data, args.workers, args.workers, args.poll))  # warm every worker
        rows = []
        runs = [("async", int(c)) for c in args.clients.split(",") if c]
        runs += [("sync", int(c)) for c in args.sync_clients.split(",") if c]
        for mode, clients in runs:
            # raw engine right before each API run, so that both see the same load from other processes
            raw, raw_cpu = raw_run(raw_pool, args.tasks)
            api_cpu_before, workers_cpu_before = cpu_seconds(server.pid)
            poll = args.poll if mode == "async" else 0.0
            result = asyncio.run(load(base, api_key, data, clients, args.tasks, poll))
            api_cpu_after, workers_cpu_after = cpu_seconds(server.pid)
            api_cpu = (api_cpu_after - api_cpu_before) / args.tasks
            worker_cpu = (workers_cpu_after - workers_cpu_before) / args.tasks
            finished_per_s = args.tasks / result["finish_seconds"]
            submit_ms = [s * 1000 for s in result["submit"]]
            poll_ms = [s * 1000 for s in result["poll"]]
            rows.append(
                [
                    mode,
                    clients,
                    args.tasks / result["submit_seconds"],
                    finished_per_s,
                    percentile(submit_ms, 50),
                    percentile(submit_ms, 95),
                    percentile(submit_ms, 99),
                    percentile(poll_ms, 50),
                    percentile(poll_ms, 95),
                    percentile(poll_ms, 99),
                    raw,
                    finished_per_s / raw,
                    api_cpu * 1000,
                    worker_cpu * 1000,
                    raw_cpu * 1000,
                    raw_cpu / (api_cpu + worker_cpu),
                    f"{100 * api_cpu / (api_cpu + worker_cpu):.1f}%",
                ]
            )
            print(
                f"{mode} {clients} clients: API {finished_per_s:.2f}/s, raw {raw:.2f}/s, ratio {finished_per_s / raw:.3f}",
                flush=True,
            )
    finally:
        raw_pool.terminate()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
        shutil.rmtree(data_dir, ignore_errors=True)

    headers = [
        "mode",
        "clients",
        "submitted/s",
        "finished/s",
        "submit p50 ms",
        "p95",
        "p99",
        "poll p50 ms",
        "p95",
        "p99",
        "raw images/s",
        "API/raw",
        "API process CPU ms/task",
        "worker CPU ms/task",
        "raw CPU ms/image",
        "CPU ratio",
        "API CPU share",
    ]
    report = f"""# API load

`python bench/api_load.py --clients {args.clients} --sync-clients {args.sync_clients} --tasks {args.tasks} --workers {args.workers} --size {args.size} --poll {args.poll}`

Machine: {machine()}; load average before the run {load_before[0]:.2f} (the cores are shared, so figures
move between runs).

Input: a {args.size}x{args.size} PNG portrait (astronaut), style `{STYLE}`. "raw images/s" is the same
pipeline in {args.workers} spawned processes with no HTTP and no store, measured right before each API
run (other processes share these cores, so the pairing matters more than the absolute figures).

Through `restyle serve --workers {args.workers}` on 127.0.0.1 (SQLite store, local storage): the clients
share {args.tasks} tasks; each submits its share as fast as it can (`Prefer: respond-async`), then polls
its tasks every {args.poll} s until they are final. "submitted/s" = tasks / time until the last submit
returned; "finished/s" = tasks / time until the server finished the last task (its `finished_at`, so
the clients' poll interval does not count). In the "sync" runs each client instead sends one plain
submit at a time, which waits for the result (the API's default); its submit latency is end to end. API/raw = finished/s over the raw engine's images/s on the
same number of processes: the overhead ratio (target >= 0.9), measured in wall-clock time.
Because other processes share the cores, the table also gives CPU time, which they do not disturb:
the API process's CPU per task (HTTP, validation, store, storage), the worker processes' CPU per task
(render plus claim, heartbeat and progress writes), the raw pipeline's CPU per image, and the CPU
ratio = raw CPU per image / (API + worker CPU per task), the overhead ratio the service reaches on
cores it has to itself. The raw pipeline's CPU per image comes out above the workers' CPU per task
although the workers run the same pipeline (and a little more), so the CPU ratio may flatter the
service; "API CPU share" = API CPU / (API + worker CPU) avoids that comparison: 1 - share is the
ratio if the workers' own bookkeeping were free.

{table(headers, rows)}
"""
    # the hot-path section (bench/api_hot_path.py) of the same report stays as it was
    kept = section_of(args.out, HOT_PATH_SECTION)
    args.out.write_text(report + (f"\n{kept}" if kept else ""))
    print(report)


if __name__ == "__main__":
    main()
