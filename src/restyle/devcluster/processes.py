"""Processes started by the development cluster: one pid file each, and a stop that ends exactly those.

Each process starts in its own session (its pid is its process group), so stopping it reaches the
children it forked (uvicorn, Celery pool processes) and nothing else. A pid file holds the pid and
the process's start time from /proc, so a pid reused by an unrelated process is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(
    port: int, timeout: float, process: subprocess.Popen[bytes] | None = None, what: str = ""
) -> None:
    """Wait until ``port`` accepts connections; raise if ``process`` exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"{what or 'the process'} exited with code {process.returncode} before listening"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{what or 'the process'} did not listen on 127.0.0.1:{port} within {timeout:g} s"
            )
        time.sleep(0.1)


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), None if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[19] if fields[0] != "Z" else None


def spawn(
    name: str, command: Sequence[str], env: Mapping[str, str], run_dir: Path
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, its output in ``run_dir/NAME.log``, its pid in ``NAME.pid``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            list(command), env=dict(env), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    (run_dir / f"{name}.pid").write_text(f"{process.pid} {start_time(process.pid) or ''}\n")
    return process


def read_pid(pid_file: Path) -> int | None:
    """The pid a pid file names if that very process still runs, else None."""
    try:
        parts = pid_file.read_text().split()
        pid = int(parts[0])
    except (OSError, ValueError, IndexError):
        return None
    started = start_time(pid)
    if started is None or (len(parts) > 1 and parts[1] != started):
        return None
    return pid


def stop(pid_file: Path, timeout: float = 10.0) -> bool:
    """End the process (and its session's children) a pid file names; True if one was running."""
    pid = read_pid(pid_file)
    if pid is not None:
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while start_time(pid) is not None and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)
        _signal_group(pid, signal.SIGKILL)
        _reap(pid)
    pid_file.unlink(missing_ok=True)
    return pid is not None


def kill(pid_file: Path) -> int | None:
    """kill -9 the process a pid file names (a crash, for fault tests); its pid, or None."""
    pid = read_pid(pid_file)
    if pid is not None:
        _signal_group(pid, signal.SIGKILL)
        _reap(pid)
    return pid


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)  # the process was started in its own session: pgid == pid
    except ProcessLookupError:
        pass
    except PermissionError:  # not a group leader any more: the process alone
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):  # our own child (tests): collect it, no zombie
        os.waitpid(pid, os.WNOHANG)
