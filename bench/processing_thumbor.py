"""thumbor for the processing bench: its own venv, a config with every cache off, one server process on
an ephemeral 127.0.0.1 port (the bench binds the socket and hands thumbor its file descriptor), and a
keep-alive HTTP client that times requests (LoopbackServer, which restyle's server uses too).
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

THUMBOR_REQUIREMENT = "thumbor==7.8.0"


class ServerUnavailable(Exception):
    """A server of the bench could not be installed or started; the message says why in one sentence."""


class ThumborUnavailable(ServerUnavailable):
    """thumbor could not be installed or started."""


def ensure_venv(venv: Path) -> Path:
    """The thumbor executable inside ``venv``, creating the venv and installing thumbor if needed."""
    executable = venv / "bin" / "thumbor"
    if executable.exists():
        return executable
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "pip"), "install", "--quiet", THUMBOR_REQUIREMENT],
    ]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ThumborUnavailable(f"'{' '.join(step[:3])}' could not run: {exc}.") from exc
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ThumborUnavailable(
                f"'{' '.join(step[:3])}' failed with exit code {done.returncode}: {last}"
            )
    if not executable.exists():
        raise ThumborUnavailable(f"thumbor was installed but {executable} does not exist.")
    return executable


def thumbor_version(venv: Path) -> str:
    python = venv / "bin" / "python"
    code = "import importlib.metadata as m; print(m.version('thumbor'), m.version('pillow'))"
    out = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=False
    ).stdout.split()
    return f"thumbor {out[0]} (Pillow {out[1]})" if len(out) == 2 else "thumbor (version unknown)"


def write_config(path: Path, root: Path, quality: int, webp_quality: int) -> None:
    """Every request really processes: no source storage, no result storage, no client cache headers."""
    lines = [
        "LOADER = 'thumbor.loaders.file_loader'",
        f"FILE_LOADER_ROOT_PATH = {str(root)!r}",
        "ALLOW_UNSAFE_URL = True",
        "STORAGE = 'thumbor.storages.no_storage'",
        "RESULT_STORAGE = None",
        "RESULT_STORAGE_STORES_UNSAFE = False",
        "MAX_AGE = 0",
        f"QUALITY = {quality}",
        f"WEBP_QUALITY = {webp_quality}",
        "PROGRESSIVE_JPEG = False",  # restyle writes baseline JPEG
        "AUTO_WEBP = False",
        "RESPECT_ORIENTATION = False",
        "ENGINE_THREADPOOL_SIZE = 0",
        "NON_BLOCKING_SOCKETS = True",  # the listening socket is handed over by file descriptor
        "MAX_PIXELS = 100e6",
    ]
    path.write_text("\n".join(lines) + "\n")


class LoopbackServer:
    """A server process pinned to ``cpu`` on 127.0.0.1, a keep-alive HTTP client to it, and its CPU time."""

    def __init__(
        self, command: list[str], port: int, cpu: int | None, pass_fds: tuple[int, ...] = ()
    ) -> None:
        self.port = port
        env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
        self.process = subprocess.Popen(
            command, pass_fds=pass_fds, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if cpu is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(self.process.pid, {cpu})
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def wait_ready(self, path: str, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                last = (err.strip().splitlines() or ["no output"])[-1]
                raise ServerUnavailable(
                    f"{self.process.args[0]} exited with code {self.process.returncode}: {last}"
                )
            try:
                status, _ = self.get(path)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise ServerUnavailable(f"{self.process.args[0]} did not answer {path} within {timeout:.0f} s.")

    def get(self, path: str) -> tuple[int, bytes]:
        """One GET on the kept-alive connection (reconnects once if the server closed it)."""
        for attempt in range(2):
            try:
                self.connection.request("GET", path)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far, to the nanosecond (sum over its threads)."""
        total = 0
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # a thread that ended between listing and reading
        return total / 1e9

    def stop(self) -> None:
        self.connection.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class ThumborServer(LoopbackServer):
    """One thumbor process serving on a socket bound here to 127.0.0.1:0 (handed over by descriptor)."""

    def __init__(self, executable: Path, config: Path, cpu: int | None) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.set_inheritable(True)
        fd = self.listener.fileno()
        command = [str(executable), "-c", str(config), "-f", str(fd), "-l", "error", "--processes", "1"]
        super().__init__(command, self.listener.getsockname()[1], cpu, pass_fds=(fd,))

    def stop(self) -> None:
        super().stop()
        self.listener.close()
