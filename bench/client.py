"""What ``restyle.client`` costs on the caller's side: its import, and the time and CPU a ``restyle()``
call adds over the plainest use of the API, against same-run baselines.

1. Import, in fresh interpreters: ``import restyle.client`` against ``import httpx`` (its one dependency)
   and ``import restyle.pipeline`` (what a local run loads).
2. One small task (the bundled sample at 256 px, preset sketch) on a real ``restyle serve`` (1 worker), in
   turns: the baseline is a bare httpx multipart POST that lets the server wait for the result
   (``wait=30``) and a GET of the result link; then ``Client.restyle`` following the task's events (SSE),
   and ``Client.restyle`` polling (``events=False``). Wall time includes the render; client CPU is
   ``time.process_time`` of this process.

The machine is shared: read the ratios. Writes bench/reports/client.md.
Usage: python bench/client.py [--tasks 12]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

if __name__ == "__main__":  # run as a script: the repository root and src/ on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from common import REPORTS, machine, table

RESTYLE = [sys.executable, "-c", "from restyle.cli import main; main()"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "RESTYLE_SERVER__LOG_LEVEL": "warning"}


def import_cost(module: str, runs: int = 5) -> tuple[float, float]:
    """(median CPU ms, median RSS MB added) of importing ``module`` in a fresh interpreter."""
    code = (
        "import resource, time\n"
        "def rss():\n"
        "    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) / 1024\n"
        "before, cpu = rss(), time.process_time()\n"
        f"import {module}\n"
        "print(1000 * (time.process_time() - cpu), rss() - before)\n"
    )
    samples = [
        tuple(map(float, subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                        check=True, env=ENV).stdout.split()))  # fmt: skip
        for _ in range(runs)
    ]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], str, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        RESTYLE + ["serve", "--data-dir", str(data_dir), "--port", str(port), "--workers", "1", "--no-access-log"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, start_new_session=True,
    )  # fmt: skip
    import httpx

    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("the server did not start")
        time.sleep(0.2)
    created = subprocess.run(
        RESTYLE + ["keys", "create", "--name", "bench", "--qps", "100", "--json", "--data-dir", str(data_dir)],
        capture_output=True, text=True, check=True, env=ENV,
    )  # fmt: skip
    return server, base, json.loads(created.stdout)["api_key"]


def measure(call: Callable[[], object]) -> tuple[float, float]:
    """(wall ms, client CPU ms) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return 1000 * (time.perf_counter() - wall), 1000 * (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=12)
    args = parser.parse_args()

    # 1. imports
    imports = {module: import_cost(module) for module in ("httpx", "restyle.client", "restyle.pipeline")}
    base_cpu, base_rss = imports["httpx"]
    import_rows = [
        [f"`import {m}`", cpu, cpu / base_cpu, rss, rss / base_rss if base_rss else float("nan")]
        for m, (cpu, rss) in imports.items()
    ]

    # 2. one task, three ways, in turns so that load changes hit all three alike
    import cv2
    import httpx

    from restyle.client import Client
    from restyle.samples import load_sample

    photo = cv2.imencode(".png", cv2.resize(load_sample("astronaut"), (256, 256))[:, :, ::-1])[1].tobytes()
    with tempfile.TemporaryDirectory() as folder:
        server, base, key = start_server(Path(folder) / "data")
        try:
            auth = {"Authorization": f"Bearer {key}"}
            raw = httpx.Client(base_url=base, timeout=60)
            sse, polling = Client(base, key), Client(base, key, events=False)

            def bare() -> None:
                task = raw.post("/v1/tasks?wait=30", headers=auth, files={"image": ("me.png", photo, "image/png")},
                                data={"style": "sketch"}).json()  # fmt: skip
                assert task["status"] == "SUCCEEDED", task
                raw.get(task["result"]["images"][0]["url"]).raise_for_status()

            ways: dict[str, Callable[[], object]] = {
                "bare httpx, server waits (baseline)": bare,
                "Client.restyle, events (SSE)": lambda: sse.restyle(photo, "sketch"),
                "Client.restyle, polling": lambda: polling.restyle(photo, "sketch"),
            }
            for way in ways.values():  # warm-up: connections, the worker's first task
                way()
            samples: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
            for _ in range(args.tasks):
                for name, way in ways.items():
                    samples[name].append(measure(way))
        finally:
            os.killpg(server.pid, 9)
            server.wait(10)
    medians = {n: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v)) for n, v in samples.items()}
    wall0, cpu0 = next(iter(medians.values()))
    task_rows = [[name, wall, wall / wall0, cpu, cpu / cpu0] for name, (wall, cpu) in medians.items()]

    report = "\n".join([
        "# Client overhead", "", f"Machine: {machine()} (shared with other jobs; read the ratios).",
        f"Command: `python bench/client.py --tasks {args.tasks}`", "",
        "## Import (fresh interpreter, median of 5)", "",
        table(["import", "CPU ms", "x httpx", "RSS MB added", "x httpx"], import_rows), "",
        f"## One small task (sketch, 256 px, 1 worker; median of {args.tasks}, in turns)", "",
        table(["how", "wall ms", "x baseline", "client CPU ms", "x baseline"], task_rows), "",
    ])  # fmt: skip
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "client.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
