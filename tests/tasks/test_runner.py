"""The runner with the real pipeline (classic engine) on small real photos, SQLite store."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from restyle.auth.accounts import AccountStore
from restyle.auth.limits import SubmitRateLimiter
from restyle.auth.models import AccountRow
from restyle.config import Settings
from restyle.domain import ImageSource
from restyle.pipeline import Pipeline
from restyle.storage.local import LocalStorage
from restyle.tasks import lease
from restyle.tasks.db import Database
from restyle.tasks.events import ChangeFeed
from restyle.tasks.models import TaskRow
from restyle.tasks.queue import TaskQueue
from restyle.tasks.runner import INTERNAL_MESSAGE, Runner
from restyle.tasks.service import Submission, TaskService
from restyle.tasks.store import TaskStore
from tests.tasks.fixtures import new_task


class RecordingQueue(TaskQueue):
    def __init__(self) -> None:
        self.notified: list[str] = []

    def notify(self, task_id: str) -> None:
        self.notified.append(task_id)


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    built = Pipeline(Settings())
    built.setup()
    return built


class World:
    """A store, storage, service and runner on tmp dirs around the shared pipeline."""

    def __init__(self, tmp_path: Path, pipeline: Pipeline, **task_settings: Any) -> None:
        self.settings = Settings(data_dir=tmp_path, tasks=task_settings)
        self.db = Database(self.settings.database_url)
        self.db.migrate()
        self.store = TaskStore(self.db)
        self.storage = LocalStorage(self.settings.storage_root)
        self.queue = RecordingQueue()
        self.service = TaskService(
            self.settings,
            self.store,
            self.storage,
            self.queue,
            SubmitRateLimiter(),
            pipeline.resolve_style,
            ChangeFeed(),
        )
        self.account: AccountRow = AccountStore(self.db, self.settings.limits).create("runner", qps=1000)
        self.events: list[tuple[str, Any]] = []
        self.stopping = False
        self.runner = Runner(
            self.settings,
            self.db,
            self.storage,
            pipeline,
            worker_id="test",
            publish=lambda task_id, event: self.events.append((task_id, event)),
            stopping=lambda: self.stopping,
        )

    def submit(self, image: bytes, **fields: Any) -> TaskRow:
        row, created = self.service.submit(
            self.account, Submission(fields=fields, image=ImageSource(data=image))
        )
        assert created and self.queue.notified[-1] == row.id
        return row

    def files(self) -> list[str]:
        return sorted(
            str(p.relative_to(self.storage.root)) for p in self.storage.root.rglob("*") if p.is_file()
        )


@pytest.fixture
def world(tmp_path: Path, pipeline: Pipeline) -> World:
    return World(tmp_path, pipeline)


def test_a_task_runs_to_succeeded_with_its_result_stored(world: World, astronaut_png: bytes) -> None:
    task = world.submit(astronaut_png, style="sketch", seed=7)
    assert world.runner.run_next()
    done = world.store.get(task.id)
    assert done.status == "SUCCEEDED" and done.attempts == 1 and done.lease_token is None
    assert done.identity_distance is not None and done.identity_distance < 0.6
    assert {"queue", "load", "decode", "engine", "encode", "store"} <= set(done.timings_ms)
    (key,) = done.result_keys
    output = Image.open(io.BytesIO(world.storage.get(key)))
    assert output.size == (320, 320) and output.format == "PNG"
    assert done.result is not None and done.result["seed"] == 7
    steps = [event["step"] for task_id, event in world.events if event and "step" in event]
    assert steps[:4] == ["load", "decode", "precheck", "detect"] and steps[-3:] == ["label", "encode", "store"]
    assert not world.runner.run_next()  # nothing left


def test_bad_input_fails_the_task_with_its_error_code(world: World) -> None:
    blank = io.BytesIO()
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(blank, format="PNG")
    task = world.submit(blank.getvalue())
    world.runner.run_next()
    failed = world.store.get(task.id)
    assert failed.status == "FAILED" and failed.error_code == "face.not_found"
    assert "No face was found in parameter 'image'" in (failed.error_message or "")
    assert failed.result_keys == [] and not [f for f in world.files() if "/output/" in f]


def test_a_url_input_is_fetched_through_the_address_guard(world: World) -> None:
    row, _ = world.store.insert(
        new_task(world.account.id, inputs={"image": {"url": "http://127.0.0.1:9/a.png"}})
    )
    world.runner.run_next()
    failed = world.store.get(row.id)
    assert (failed.status, failed.error_code) == ("FAILED", "url.forbidden")
    assert "Parameter 'image' points to 127.0.0.1, a loopback address" in (failed.error_message or "")


def test_cancel_while_running_stops_at_the_next_step(world: World, astronaut_png: bytes) -> None:
    task = world.submit(astronaut_png, style="sketch")
    claim = lease.claim(world.db, "test", 30)
    assert claim is not None
    world.service.cancel(task.id, world.account.id)
    world.runner.run(claim)
    canceled = world.store.get(task.id)
    assert (canceled.status, canceled.error_code) == ("CANCELED", "task.canceled")
    assert not [f for f in world.files() if "/output/" in f]


def test_unexpected_errors_become_internal(
    world: World, astronaut_png: bytes, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(world.runner.pipeline, "render", explode)
    task = world.submit(astronaut_png)
    world.runner.run_next()
    failed = world.store.get(task.id)
    assert (failed.status, failed.error_code, failed.error_message) == (
        "FAILED",
        "internal",
        INTERNAL_MESSAGE,
    )
    assert "boom" in caplog.text


def test_a_worker_that_lost_its_lease_writes_nothing(
    world: World, astronaut_png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = world.submit(astronaut_png, style="sketch")
    real_render = world.runner.pipeline.render

    def render_then_lose_lease(*args: Any, **kwargs: Any) -> Any:
        result = real_render(*args, **kwargs)
        with world.db.write() as session:  # as if the lease expired and another worker took the task
            row = session.get(TaskRow, task.id)
            assert row is not None
            row.lease_token = "someone-else"
        return result

    monkeypatch.setattr(world.runner.pipeline, "render", render_then_lose_lease)
    world.runner.run_next()
    row = world.store.get(task.id)
    assert row.status == "RUNNING" and row.lease_token == "someone-else" and row.result_keys == []
    assert not [f for f in world.files() if "/output/" in f]


def test_shutdown_hands_the_task_back(world: World, astronaut_png: bytes) -> None:
    task = world.submit(astronaut_png)
    world.stopping = True
    world.runner.run_next()
    back = world.store.get(task.id)
    assert (back.status, back.attempts, back.lease_token) == ("PENDING", 0, None)


def test_deadline_fails_a_slow_task(tmp_path: Path, pipeline: Pipeline, astronaut_png: bytes) -> None:
    world = World(tmp_path, pipeline, deadline_seconds=0)
    task = world.submit(astronaut_png)
    world.runner.run_next()
    failed = world.store.get(task.id)
    assert (failed.status, failed.error_code) == ("FAILED", "task.deadline")
    assert "deadline of 0 seconds" in (failed.error_message or "")
