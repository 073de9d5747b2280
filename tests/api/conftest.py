"""API fixtures: one real app with one worker process for the session (the real pipeline), and
per-test accounts so that tests do not share limits or tasks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from restyle.api import create_app
from restyle.api.services import Services
from restyle.auth.models import AccountRow
from restyle.config import Settings

LIVE_SETTINGS: dict[str, Any] = {
    "workers": {"count": 1, "poll_seconds": 0.2},
    "tasks": {"lease_seconds": 3, "heartbeat_seconds": 0.5, "sweep_interval_seconds": 3600},
    "webhooks": {"backoff_seconds": 0.2, "poll_seconds": 0.1, "max_attempts": 3, "timeout_seconds": 2},
    "server": {"default_wait_seconds": 30},
    "auth": {"demo_account": False},
}


@dataclass
class Caller:
    """An account and the headers that authenticate as it."""

    account: AccountRow
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@dataclass
class App:
    """A running app, its test client and its services."""

    client: TestClient
    services: Services

    def caller(self, qps: float = 100, concurrency: int = 1, is_admin: bool = False) -> Caller:
        account = self.services.accounts.create(
            f"test-{uuid.uuid4().hex[:8]}", qps=qps, concurrency=concurrency, is_admin=is_admin
        )
        return Caller(account, self.services.keys.issue(account).api_key)

    def wait_final(self, caller: Caller, task_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            task: dict[str, Any] = self.client.get(f"/v1/tasks/{task_id}", headers=caller.headers).json()
            if task["status"] in ("SUCCEEDED", "FAILED", "CANCELED") or time.monotonic() > deadline:
                return task
            time.sleep(0.05)


def build_settings(data_dir: Path, **sections: Any) -> Settings:
    values: dict[str, Any] = {key: dict(value) for key, value in LIVE_SETTINGS.items()}
    for name, section in sections.items():
        values.setdefault(name, {}).update(section)
    return Settings(data_dir=data_dir, **values)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    app = create_app(build_settings(tmp_path_factory.mktemp("live")))
    with TestClient(app) as client:
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the worker did not warm up"
            time.sleep(0.1)
        yield App(client, app.state.services)


@pytest.fixture
def idle(tmp_path: Path) -> Iterator[App]:
    """An app without workers: every task stays PENDING; at most 2 may wait."""
    app = create_app(build_settings(tmp_path, limits={"max_pending": 2}), start_workers=False)
    with TestClient(app) as client:
        yield App(client, app.state.services)


def multipart(image: bytes, **fields: Any) -> dict[str, Any]:
    return {
        "files": {"image": ("photo.png", image, "image/png")},
        "data": {k: str(v) for k, v in fields.items()},
    }
