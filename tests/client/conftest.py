"""One real ``restyle serve`` on a random loopback port for the client tests, with accounts made by the
keys CLI: ``main`` (fast limits), ``paused`` (concurrency 0: its tasks stay PENDING, so cancel, delete and
wait time-outs are tested without rendering) and ``slow`` (0.5 submits per second: real 429s)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.api.test_serve_process import ENV, Server, free_port, restyle_command
from tests.conftest import encode_png

SERVER_ENV = {
    # the URL-input test hands the server a link to its own files
    "RESTYLE_IMAGES__FETCH_ALLOW": "127.0.0.1",
    "RESTYLE_SERVER__LOG_LEVEL": "warning",
    # the default lease, not the 2 s of the crash tests: on a loaded machine a 2 s lease can run out
    # under a busy worker three times, and the task fails with task.lost instead of its own error
    "RESTYLE_TASKS__LEASE_SECONDS": "20",
    "RESTYLE_TASKS__HEARTBEAT_SECONDS": "5",
}


@dataclass
class LiveServer:
    """The running server, its data folder and one API key per test account."""

    server: Server
    data_dir: Path
    keys: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.base


def create_key(data_dir: Path, name: str, *extra: str) -> str:
    created = subprocess.run(
        restyle_command() + ["keys", "create", "--name", name, "--json", "--data-dir", str(data_dir), *extra],
        capture_output=True, text=True, check=True, env={**os.environ, **ENV}, timeout=120,
    )  # fmt: skip
    return str(json.loads(created.stdout)["api_key"])


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("client-server") / "data"
    server = Server(data_dir, free_port(), env=SERVER_ENV, workers=1)
    try:
        keys = {
            "demo": server.banner.split("API key:", 1)[1].split()[0],
            "main": create_key(data_dir, "main", "--qps", "50", "--concurrency", "2"),
            "paused": create_key(data_dir, "paused", "--qps", "50", "--concurrency", "0"),
            "slow": create_key(data_dir, "slow", "--qps", "0.5", "--concurrency", "2"),
        }
        yield LiveServer(server, data_dir, keys)
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def portrait(astronaut: np.ndarray) -> np.ndarray:
    """A small RGB portrait: fast to render with the sketch preset."""
    return cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def portrait_file(tmp_path_factory: pytest.TempPathFactory, portrait: np.ndarray) -> Path:
    path = tmp_path_factory.mktemp("inputs") / "me.png"
    path.write_bytes(encode_png(portrait))
    return path


@pytest.fixture(scope="session")
def faceless_png() -> bytes:
    ramp = np.tile(np.linspace(0, 255, 256, dtype=np.uint8)[None, :, None], (256, 1, 3))
    return encode_png(ramp)
