"""A small restyle cluster on 127.0.0.1 for the fault tests: API processes (``restyle serve
--no-workers``) and Celery workers (``restyle worker``) as real subprocesses, each in a session of
its own so that kill -9 reaches a worker's pool processes too, all on one PostgreSQL database and
one Redis (broker and rate-limit counts)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np

START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def restyle_command() -> list[str]:
    script = Path(sys.executable).parent / "restyle"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from restyle.cli import main; main()"]


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def photo_jpeg(side: int) -> bytes:
    """The astronaut photo (public domain, ships with scikit-image), ``side`` pixels square."""
    from skimage import data

    image = cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(image[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return encoded.tobytes()


@dataclass
class Proc:
    """One restyle process with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    base: str | None = None  # API processes: http://127.0.0.1:port
    pool_size: int = 0  # workers: pool processes that must report ready

    def alive(self) -> bool:
        return self.process.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def pool_pids(self) -> list[int]:
        """A worker's pool processes (Celery prefork children)."""
        return children_of(self.process.pid)

    def kill_hard(self) -> None:
        """kill -9 the process and everything in its session (a worker's pool processes too)."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


@dataclass
class Cluster:
    """API and worker processes sharing one data dir, database and Redis; all stopped by :meth:`close`."""

    data_dir: Path
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)

    def _spawn(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> Proc:
        log = self.data_dir.parent / f"{name}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                restyle_command() + args,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env, **(extra_env or {})},
                start_new_session=True,
            )
        proc = Proc(name, process, log)
        self.procs.append(proc)
        return proc

    def api(self, name: str, extra_env: dict[str, str] | None = None) -> Proc:
        port = free_port()
        args = ["serve", "--no-workers", "--port", str(port), "--data-dir", str(self.data_dir), "--no-access-log"]
        proc = self._spawn(name, args, extra_env)
        proc.base = f"http://127.0.0.1:{port}"
        return proc

    def worker(self, name: str, concurrency: int = 1, extra_env: dict[str, str] | None = None) -> Proc:
        args = ["worker", "--concurrency", str(concurrency), "--data-dir", str(self.data_dir)]
        proc = self._spawn(name, args, {"RESTYLE_SERVER__LOG_LEVEL": "info", **(extra_env or {})})
        proc.pool_size = concurrency
        return proc

    def wait_ready(self, *procs: Proc, timeout: float = START_TIMEOUT) -> None:
        """APIs answer /readyz 200; workers logged that every pool process warmed up."""
        deadline = time.monotonic() + timeout
        for proc in procs:
            while not self._ready(proc):
                assert proc.alive(), f"{proc.name} exited during start-up:\n{proc.text()[-3000:]}"
                assert time.monotonic() < deadline, f"{proc.name} did not become ready:\n{proc.text()[-3000:]}"
                time.sleep(0.1)

    @staticmethod
    def _ready(proc: Proc) -> bool:
        if proc.base is None:
            return len(re.findall(r"worker process \d+ ready", proc.text())) >= proc.pool_size
        try:
            return httpx.get(proc.base + "/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                proc.kill_hard()


def submit(
    base: str, api_key: str, image: bytes, *, key: str | None = None, timeout: float = 10.0, **fields: Any
) -> httpx.Response:
    """POST /v1/tasks without waiting for the result."""
    headers = {"Authorization": f"Bearer {api_key}", "Prefer": "respond-async"}
    if key is not None:
        headers["Idempotency-Key"] = key
    data = {"style": "sketch", **{name: str(value) for name, value in fields.items()}}
    files = {"image": ("photo.jpg", image, "image/jpeg")}
    return httpx.post(f"{base}/v1/tasks", headers=headers, data=data, files=files, timeout=timeout)
