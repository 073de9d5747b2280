"""A real ``restyle serve`` process on 127.0.0.1: first start, keys CLI, and crash recovery
(kill -9 while a task runs, start again, the task finishes exactly once)."""

from __future__ import annotations

import io
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import cv2
import httpx
import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow

ENV = {
    "RESTYLE_TASKS__LEASE_SECONDS": "2",
    "RESTYLE_TASKS__HEARTBEAT_SECONDS": "0.5",
    "RESTYLE_WORKERS__POLL_SECONDS": "0.2",
    "RESTYLE_SERVER__LOG_LEVEL": "warning",
    "OMP_NUM_THREADS": "1",
    "OMP_WAIT_POLICY": "PASSIVE",
}


def restyle_command() -> list[str]:
    script = Path(sys.executable).parent / "restyle"
    return (
        [str(script)] if script.exists() else [sys.executable, "-c", "from restyle.cli import main; main()"]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


class Server:
    """One ``restyle serve`` process in its own session (so that cleanup reaches its workers)."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str] | None = None, workers: int = 1) -> None:
        self.base = f"http://127.0.0.1:{port}"
        command = restyle_command() + [
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
        ]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **ENV, **(env or {})},
            start_new_session=True,
        )
        self.banner = self._read_until("restyle serving on")
        deadline = time.monotonic() + 120
        while not self._ready():
            assert self.process.poll() is None, "the server exited during start-up"
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.1)

    def _read_until(self, marker: str) -> str:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        lines = []
        while True:
            line = stdout.readline()
            assert line, "the server exited: " + "".join(lines)
            lines.append(line)
            if marker in line:
                return "".join(lines)

    def _ready(self) -> bool:
        try:
            return httpx.get(self.base + "/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill_hard(self) -> list[int]:
        workers = children_of(self.process.pid)
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        return workers

    def cleanup(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        if self.process.stdout:
            self.process.stdout.close()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.cleanup()


def big_photo(astronaut: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(cv2.resize(astronaut, (2048, 2048))).save(buffer, format="PNG")  # a few seconds to render
    return buffer.getvalue()


def wait_for(predicate: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return value


def test_kill_9_during_a_task_then_restart_finishes_it_exactly_once(
    tmp_path: Path, astronaut: np.ndarray, servers: list[Server]
) -> None:
    port, data_dir = free_port(), tmp_path / "data"
    first = Server(data_dir, port)
    servers.append(first)
    assert "Created the demo account" in first.banner
    api_key = first.banner.split("API key:", 1)[1].split()[0]
    headers = {"Authorization": f"Bearer {api_key}"}
    created = subprocess.run(
        restyle_command()
        + ["keys", "create", "--name", "ops", "--qps", "5", "--json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **ENV},
    )
    ops = json.loads(created.stdout)
    assert {"api_key", "access_key_id", "secret_access_key"} <= set(ops) and ops["qps"] == 5

    files = {"image": ("big.png", big_photo(astronaut), "image/png")}
    submitted = httpx.post(
        first.base + "/v1/tasks",
        headers={**headers, "Prefer": "respond-async"},
        files=files,
        data={"style": "sketch"},
        timeout=30,
    )
    assert submitted.status_code == 202
    task_id = submitted.json()["id"]
    get = lambda base: httpx.get(f"{base}/v1/tasks/{task_id}", headers=headers, timeout=10).json()  # noqa: E731
    wait_for(lambda: get(first.base)["status"] == "RUNNING")
    workers = first.kill_hard()
    assert workers, "the server had no worker process"
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), timeout=10)  # workers follow

    second = Server(data_dir, port)
    servers.append(second)
    assert "Created the demo account" not in second.banner
    task = wait_for(lambda: (t := get(second.base))["status"] in ("SUCCEEDED", "FAILED") and t, timeout=120)
    assert task["status"] == "SUCCEEDED" and task["attempts"] == 2
    outputs = sorted(p.name for p in (data_dir / "files").rglob(f"{task_id}/output/*"))
    assert outputs == ["2-0.png"]
    download = httpx.get(task["result"]["images"][0]["url"], timeout=10)
    assert download.status_code == 200 and Image.open(io.BytesIO(download.content)).size == (2048, 2048)
    listing = subprocess.run(
        restyle_command() + ["keys", "list", "--json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **ENV},
    )
    assert [a["name"] for a in json.loads(listing.stdout)] == ["demo", "ops"]

    workers = children_of(second.process.pid)
    second.process.send_signal(signal.SIGTERM)  # graceful stop (uvicorn re-raises the signal when done)
    assert second.process.wait(30) in (0, -signal.SIGTERM)
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), timeout=10)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_curl_example_works(tmp_path: Path, astronaut_png: bytes, servers: list[Server]) -> None:
    port = free_port()
    server = Server(tmp_path / "data", port, env={"RESTYLE_SERVER__MAX_REQUEST_BYTES": str(4 << 20)})
    servers.append(server)
    api_key = server.banner.split("API key:", 1)[1].split()[0]
    photo = tmp_path / "photo.png"
    photo.write_bytes(astronaut_png)
    result = subprocess.run(
        [
            "curl",
            "-sS",
            "-H",
            f"Authorization: Bearer {api_key}",
            "-F",
            f"image=@{photo}",
            "-F",
            "style=anime",
            f"{server.base}/v1/tasks",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    task = json.loads(result.stdout)
    assert task["status"] == "SUCCEEDED", task
    assert (
        subprocess.run(
            ["curl", "-sSf", "-o", str(tmp_path / "out.png"), task["result"]["images"][0]["url"]]
        ).returncode
        == 0
    )
    assert Image.open(tmp_path / "out.png").size == (320, 320)


def send_chunked_until_refused(port: int, api_key: str, chunk: int, most: int) -> tuple[str, int]:
    """POST a chunked JSON body without Content-Length until the server answers; (answer, bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {api_key}\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        piece = f"{chunk:x}\r\n".encode() + b" " * chunk + b"\r\n"
        answer = b""
        while sent < most:
            if select.select([sock], [], [], 0)[0]:  # the server answered (and stopped reading)
                break
            try:
                sock.sendall(piece)
            except OSError:  # the server closed the connection after answering
                break
            sent += chunk
        while b"}" not in answer:  # the headers and the JSON error
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    return answer.decode(errors="replace"), sent


def test_a_chunked_body_over_the_limit_is_cut_off_early(tmp_path: Path, servers: list[Server]) -> None:
    port = free_port()
    limit = 4 << 20
    server = Server(tmp_path / "data", port, env={"RESTYLE_SERVER__MAX_REQUEST_BYTES": str(limit)})
    servers.append(server)
    api_key = server.banner.split("API key:", 1)[1].split()[0]
    answer, sent = send_chunked_until_refused(port, api_key, 64 << 10, 40 * limit)
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert '"code":"request.too_large"' in answer.replace(" ", ""), answer
    # socket buffers let the client get a few MB ahead; reading the whole body would take all 40x
    assert sent < 10 * limit, f"the server read {sent} bytes of a body limited to {limit}"


def test_two_workers_share_out_two_accounts_fairly(
    tmp_path: Path, astronaut: np.ndarray, servers: list[Server]
) -> None:
    port, data_dir = free_port(), tmp_path / "data"
    server = Server(data_dir, port, workers=2)
    servers.append(server)

    def account(name: str) -> dict[str, str]:
        created = subprocess.run(
            restyle_command()
            + ["keys", "create", "--name", name, "--qps", "50", "--json", "--data-dir", str(data_dir)],
            capture_output=True, text=True, check=True, env={**os.environ, **ENV},
        )
        return {"Authorization": "Bearer " + json.loads(created.stdout)["api_key"]}

    busy, quiet = account("busy"), account("quiet")  # concurrency 1 each
    files = {"image": ("big.png", big_photo(astronaut), "image/png")}

    def submit(headers: dict[str, str]) -> str:
        response = httpx.post(
            server.base + "/v1/tasks", headers={**headers, "Prefer": "respond-async"}, files=files,
            data={"style": "sketch"}, timeout=30,
        )
        assert response.status_code == 202, response.text
        task_id: str = response.json()["id"]
        return task_id

    busy_ids = [submit(busy) for _ in range(3)]  # the busy account queues three
    quiet_id = submit(quiet)  # submitted last, but its account runs nothing

    def final(task_id: str, headers: dict[str, str]) -> dict[str, Any]:
        get = lambda: httpx.get(f"{server.base}/v1/tasks/{task_id}", headers=headers, timeout=10).json()  # noqa: E731
        return wait_for(lambda: (t := get())["status"] == "SUCCEEDED" and t, timeout=120)  # type: ignore[no-any-return]

    busy_tasks = [final(task_id, busy) for task_id in busy_ids]
    quiet_task = final(quiet_id, quiet)
    when = lambda t, k: datetime.fromisoformat(t[k])  # noqa: E731
    # the quiet account's task did not wait for the busy account's queue to drain ...
    assert when(quiet_task, "started_at") < when(busy_tasks[2], "started_at")
    # ... and the busy account never ran two tasks at once, though a second worker was idle at times
    for earlier, later in zip(busy_tasks, busy_tasks[1:], strict=False):
        assert when(earlier, "finished_at") <= when(later, "started_at") + timedelta(milliseconds=50)
