"""Vendor-front fixtures: a real ``restyle serve`` on 127.0.0.1 (one worker, a temp data dir, the
address guard admitting 127.0.0.1) for the vendors' own SDKs, accounts made in its database, and
loopback servers for the photos the SDKs send by URL."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from PIL import Image

from restyle.api.services import open_database
from restyle.auth.accounts import AccountStore
from restyle.auth.keys import KeyStore
from restyle.auth.models import AccountRow
from restyle.config import Settings
from restyle.tasks.db import Database
from tests.imaging.http_server import ImageServer, image_server

READY_SECONDS = 120
CUSTOM_DOMAIN_BUCKET = "custom-domain-bucket"  # the bucket Host 'localhost' names


@dataclass
class Caller:
    """An account of the live server and its Bearer API key."""

    account: AccountRow
    api_key: str


@dataclass
class LiveServer:
    """A ``restyle serve`` process: where it listens and how to make accounts in its database."""

    base_url: str
    settings: Settings
    db: Database  # the server's own database, for what only time would do (expiring a task)
    accounts: AccountStore
    keys: KeyStore

    def caller(self, qps: float = 100, concurrency: int = 1) -> Caller:
        account = self.accounts.create(f"front-{uuid.uuid4().hex[:8]}", qps=qps, concurrency=concurrency)
        return Caller(account, self.keys.issue(account).api_key)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"restyle serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"restyle serve was not ready in {READY_SECONDS} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("fronts-live")
    port = _free_port()
    env = {
        **os.environ,
        "RESTYLE_IMAGES__FETCH_ALLOW": "127.0.0.1",
        "RESTYLE_AUTH__DEMO_ACCOUNT": "false",
        "RESTYLE_WORKERS__POLL_SECONDS": "0.2",
        "RESTYLE_SERVER__LOG_LEVEL": "warning",
        # the TOS SDK's custom-domain mode: requests to localhost name no bucket, this table does
        "RESTYLE_TOS__CUSTOM_DOMAINS": json.dumps({"localhost": CUSTOM_DOMAIN_BUCKET}),
        "OMP_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    restyle = Path(sys.executable).parent / "restyle"
    command = [str(restyle), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--workers", "1", "--no-access-log"]
    log = data_dir / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base_url, log)
        settings = Settings(data_dir=data_dir)
        db, server_key = open_database(settings)
        yield LiveServer(base_url, settings, db, AccountStore(db, settings.limits), KeyStore(db, server_key))
        db.dispose()
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Photos:
    """The test photos, each served by its own loopback ImageServer at ``/face.png``."""

    face: ImageServer  # 320x320 astronaut
    wide: ImageServer  # 640x320: the astronaut in a 2:1 frame
    small: ImageServer  # 200x200: under the 256 px minimum
    style: ImageServer  # 320x320 Grace Hopper, a style reference

    def url(self, name: str) -> str:
        server: ImageServer = getattr(self, name)
        return server.url("/face.png")


@pytest.fixture(scope="session")
def photos(astronaut_small: np.ndarray, grace_hopper: np.ndarray) -> Iterator[Photos]:
    wide = cv2.copyMakeBorder(astronaut_small, 0, 0, 160, 160, cv2.BORDER_REFLECT)
    small = cv2.resize(astronaut_small, (200, 200), interpolation=cv2.INTER_AREA)
    style = cv2.resize(grace_hopper, (320, 320), interpolation=cv2.INTER_AREA)
    with (
        image_server(png_bytes(astronaut_small)) as face_server,
        image_server(png_bytes(wide)) as wide_server,
        image_server(png_bytes(small)) as small_server,
        image_server(png_bytes(style)) as style_server,
    ):
        yield Photos(face_server, wide_server, small_server, style_server)
