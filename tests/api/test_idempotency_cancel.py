"""Idempotency keys, cancel (PENDING and RUNNING), delete, listing and paging."""

from __future__ import annotations

import io
import time
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tests.api.conftest import App, multipart
from tests.api.test_errors import assert_error


def test_retries_with_an_idempotency_key_return_the_same_task(live: App, astronaut_png: bytes) -> None:
    caller = live.caller(qps=1)  # a replay does not count against the submit rate
    headers = {**caller.headers, "Idempotency-Key": "order-42", "Prefer": "respond-async"}
    first = live.client.post("/v1/tasks", headers=headers, **multipart(astronaut_png, style="sketch"))
    again = live.client.post("/v1/tasks", headers=headers, **multipart(astronaut_png, style="sketch"))
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    changed = live.client.post("/v1/tasks", headers=headers, **multipart(astronaut_png, style="anime"))
    assert_error(changed, 409, "idempotency.mismatch", "different request", None)
    assert live.wait_final(caller, first.json()["id"])["status"] == "SUCCEEDED"
    listed = live.client.get("/v1/tasks", headers=caller.headers).json()["data"]
    assert len(listed) == 1


def test_cancel_and_delete_of_pending_tasks(live: App, astronaut_png: bytes) -> None:
    caller = live.caller(concurrency=0)  # never runs: its tasks stay PENDING
    ids = []
    for _ in range(3):
        response = live.client.post("/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png))
        assert response.status_code == 202 and response.json()["queue_position"] is not None
        ids.append(response.json()["id"])
    canceled = live.client.post(f"/v1/tasks/{ids[0]}/cancel", headers=caller.headers)
    assert canceled.status_code == 200 and canceled.json()["status"] == "CANCELED"
    assert canceled.json()["error"]["code"] == "task.canceled" and canceled.json()["queue_position"] is None
    again = live.client.post(f"/v1/tasks/{ids[0]}/cancel", headers=caller.headers)
    assert_error(again, 409, "task.final", "already CANCELED", None)
    page = live.client.get("/v1/tasks?limit=2", headers=caller.headers).json()
    assert [t["id"] for t in page["data"]] == [ids[2], ids[1]] and page["has_more"]
    rest = live.client.get(f"/v1/tasks?limit=2&cursor={page['next_cursor']}", headers=caller.headers).json()
    assert [t["id"] for t in rest["data"]] == [ids[0]] and rest["next_cursor"] is None
    pending = live.client.get("/v1/tasks?status=pending", headers=caller.headers).json()["data"]
    assert {t["id"] for t in pending} == {ids[1], ids[2]}
    input_key = f"tasks/{caller.account.id}/{ids[1]}/input/image"
    assert live.services.storage.exists(input_key)
    assert live.client.delete(f"/v1/tasks/{ids[1]}", headers=caller.headers).status_code == 204
    assert not live.services.storage.exists(input_key)
    assert live.client.delete(f"/v1/tasks/{ids[2]}", headers=caller.headers).status_code == 204


def test_cancel_of_a_running_task(live: App, astronaut: np.ndarray) -> None:
    caller = live.caller()
    big = io.BytesIO()
    Image.fromarray(cv2.resize(astronaut, (2048, 2048))).save(big, format="PNG")  # ~3 s: time to cancel
    task = live.client.post(
        "/v1/tasks?wait=0", headers=caller.headers, **multipart(big.getvalue(), style="sketch")
    ).json()
    deadline = time.monotonic() + 60
    while live.client.get(f"/v1/tasks/{task['id']}", headers=caller.headers).json()["status"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    flagged = live.client.post(f"/v1/tasks/{task['id']}/cancel", headers=caller.headers).json()
    assert flagged["status"] in ("RUNNING", "CANCELED") and (
        flagged["cancel_requested"] or flagged["status"] == "CANCELED"
    )
    final = live.wait_final(caller, task["id"])
    assert (
        final["status"] == "CANCELED"
        and final["error"]["code"] == "task.canceled"
        and final["result"] is None
    )
    outputs = list((live.services.storage.root / "tasks" / caller.account.id).rglob("output/*"))  # type: ignore[attr-defined]
    assert outputs == []


def test_expired_tasks_disappear_with_their_files(live: App, astronaut_png: bytes) -> None:
    from datetime import timedelta

    from restyle.tasks import retention
    from restyle.tasks.db import utcnow

    caller = live.caller(concurrency=0)
    task = live.client.post("/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png)).json()
    created, expires = (datetime.fromisoformat(task[k]) for k in ("created_at", "expires_at"))
    assert expires - created == timedelta(hours=24)
    input_key = f"tasks/{caller.account.id}/{task['id']}/input/image"
    assert live.services.storage.exists(input_key)
    retention.sweep(live.services.store, live.services.storage, now=utcnow() + timedelta(hours=25))
    expired = live.client.get(f"/v1/tasks/{task['id']}", headers=caller.headers).json()
    assert expired["status"] == "FAILED" and expired["error"]["code"] == "task.expired"  # readable a while
    assert live.services.storage.exists(input_key)
    retention.sweep(live.services.store, live.services.storage, now=utcnow() + timedelta(hours=27))
    assert_error(
        live.client.get(f"/v1/tasks/{task['id']}", headers=caller.headers),
        404,
        "task.not_found",
        "expired",
        None,
    )
    assert not live.services.storage.exists(input_key)



def _png(image: np.ndarray, side: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(cv2.resize(image, (side, side))).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_sweeper_loop_expires_waiting_tasks_and_removes_them(tmp_path: Path, astronaut_png: bytes) -> None:
    from fastapi.testclient import TestClient

    from restyle.api import create_app
    from tests.api.conftest import build_settings

    settings = build_settings(tmp_path, tasks={"retention_hours": 0.0003, "sweep_interval_seconds": 0.2})
    app = create_app(settings, start_workers=False)  # nobody takes the task: it expires waiting
    with TestClient(app) as client:
        services = app.state.services
        account = services.accounts.create("sweepy")
        headers = {"Authorization": f"Bearer {services.keys.issue(account).api_key}"}
        task = client.post("/v1/tasks?wait=0", headers=headers, **multipart(astronaut_png)).json()
        input_key = f"tasks/{account.id}/{task['id']}/input/image"
        assert services.storage.exists(input_key)
        deadline = time.monotonic() + 20
        while client.get(f"/v1/tasks/{task['id']}", headers=headers).status_code != 404:
            assert time.monotonic() < deadline, "the sweeper loop never removed the expired task"
            time.sleep(0.1)
        assert not services.storage.exists(input_key)


def test_deleting_a_running_task_stops_it_and_the_worker_goes_on(live: App, astronaut: np.ndarray) -> None:
    caller = live.caller()
    files = {"image": ("big.png", _png(astronaut, 2048), "image/png")}
    task = live.client.post("/v1/tasks?wait=0", headers=caller.headers, files=files).json()
    deadline = time.monotonic() + 30
    while live.client.get(f"/v1/tasks/{task['id']}", headers=caller.headers).json()["status"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert live.client.delete(f"/v1/tasks/{task['id']}", headers=caller.headers).status_code == 204
    assert live.client.get(f"/v1/tasks/{task['id']}", headers=caller.headers).status_code == 404
    after = live.client.post("/v1/tasks", headers=caller.headers, **multipart(_png(astronaut, 256)))
    assert after.json()["status"] == "SUCCEEDED"  # the worker dropped the deleted task and went on
    root = live.services.storage.root / "tasks" / caller.account.id  # type: ignore[attr-defined]
    assert not (root / task["id"]).exists() or not any(p.is_file() for p in (root / task["id"]).rglob("*"))
