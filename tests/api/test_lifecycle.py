"""The full task lifecycle through the API with the real pipeline: submit, wait, poll, download,
list, delete; JSON and multipart; sync and async."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image

from restyle.api.metrics import face_outcome
from tests.api.conftest import App, multipart


def test_multipart_submit_waits_and_returns_the_result(live: App, astronaut_png: bytes) -> None:
    caller = live.caller()
    response = live.client.post(
        "/v1/tasks", headers=caller.headers, **multipart(astronaut_png, style="sketch", seed=3)
    )
    assert response.status_code == 200, response.text
    task = response.json()
    assert task["status"] == "SUCCEEDED" and task["attempts"] == 1 and task["error"] is None
    assert response.headers["Location"] == f"/v1/tasks/{task['id']}"
    assert response.headers["X-Request-Id"]
    assert task["parameters"]["style"] == "sketch" and task["parameters"]["seed"] == 3
    assert 0 < task["result"]["identity_distance"] < 0.6
    assert {"queue", "decode", "engine", "encode"} <= set(task["timings_ms"])
    for moment in ("created_at", "scheduled_at", "started_at", "finished_at", "expires_at"):
        assert task[moment].endswith("Z")
    (image,) = task["result"]["images"]
    download = live.client.get(image["url"])  # signed: no API key needed
    assert download.status_code == 200 and download.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(download.content)).size == (320, 320) == (image["width"], image["height"])
    again = live.client.get(f"/v1/tasks/{task['id']}", headers=caller.headers).json()
    assert again["result"]["images"][0]["key"] == image["key"] and again["status"] == "SUCCEEDED"


def test_json_base64_submit_async_then_poll_and_delete(live: App, astronaut_png: bytes) -> None:
    caller = live.caller()
    body = {
        "image": {"base64": base64.b64encode(astronaut_png).decode()},
        "style": 2,
        "output_format": "jpeg",
    }
    response = live.client.post("/v1/tasks", json=body, headers={**caller.headers, "Prefer": "respond-async"})
    assert response.status_code == 202 and response.headers["Preference-Applied"] == "respond-async"
    submitted = response.json()
    assert submitted["status"] in ("PENDING", "RUNNING") and submitted["result"] is None
    task = live.wait_final(caller, submitted["id"])
    assert task["status"] == "SUCCEEDED" and task["parameters"]["style"] == "anime"
    url = task["result"]["images"][0]["url"]
    assert task["result"]["images"][0]["key"].endswith(".jpg")
    assert live.client.get(url).headers["content-type"] == "image/jpeg"
    listed = live.client.get("/v1/tasks", headers=caller.headers).json()
    assert [t["id"] for t in listed["data"]] == [task["id"]] and listed["has_more"] is False
    assert live.client.delete(f"/v1/tasks/{task['id']}", headers=caller.headers).status_code == 204
    assert live.client.get(f"/v1/tasks/{task['id']}", headers=caller.headers).status_code == 404
    assert live.client.get(url).status_code == 404  # the files went with the task
    files = live.services.storage
    assert not files.exists(task["result"]["images"][0]["key"])


def test_a_failed_task_reports_its_error_and_never_stays_running(live: App) -> None:
    caller = live.caller()
    flat = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 130, 140)).save(flat, format="PNG")
    response = live.client.post("/v1/tasks", headers=caller.headers, **multipart(flat.getvalue(), wait=30))
    task = response.json()
    assert response.status_code == 200 and task["status"] == "FAILED"
    assert task["error"]["code"] == "face.not_found" and "allow_no_face=true" in task["error"]["message"]
    assert task["result"] is None


def test_wait_zero_returns_202_at_once(live: App, astronaut_png: bytes) -> None:
    caller = live.caller()
    response = live.client.post("/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png))
    assert response.status_code == 202
    assert live.wait_final(caller, response.json()["id"])["status"] == "SUCCEEDED"


def test_styles_health_readiness_metrics_and_docs(live: App) -> None:
    styles = live.client.get("/v1/styles").json()["data"]
    assert {"anime", "sketch"} <= {s["name"] for s in styles} and styles[0]["index"] == 0
    assert live.client.get("/healthz").json()["status"] == "ok"
    ready = live.client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["checks"] == {
        "database": True,
        "storage": True,
        "engine": True,
    }
    metrics = live.client.get("/metrics").text
    for name in ('restyle_tasks{status="SUCCEEDED"}', "restyle_queue_depth", "restyle_workers_ready 1.0"):
        assert name in metrics
    paths = live.client.get("/openapi.json").json()["paths"]
    assert {"/v1/tasks", "/v1/tasks/{task_id}/events", "/v1/files/{key}", "/healthz"} <= set(paths)
    assert live.client.get("/docs").status_code == 200


def _sample(metrics: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_each_finished_task_once_with_its_steps_and_identity(
    live: App, astronaut_png: bytes
) -> None:
    caller = live.caller()
    before = live.client.get("/metrics").text
    tasks = [
        live.client.post("/v1/tasks", headers=caller.headers, **multipart(astronaut_png, style="sketch")).json()
        for _ in range(2)
    ]
    assert [t["status"] for t in tasks] == ["SUCCEEDED", "SUCCEEDED"]
    after = live.client.get("/metrics").text
    live.client.get("/metrics")  # a second scrape must not count them again
    again = live.client.get("/metrics").text
    for name in (
        'restyle_tasks_finished_total{status="SUCCEEDED"}',
        "restyle_identity_distance_count",
        'restyle_step_seconds_count{step="engine"}',
        'restyle_task_seconds_count{status="SUCCEEDED"}',
    ):
        assert _sample(after, name) - _sample(before, name) == 2, name
        assert _sample(again, name) == _sample(after, name), name
    faces = [face for t in tasks for face in t["result"]["summary"]["faces"]]
    outcomes = {"passed": 0, "over_threshold": 0, "not_measured": 0}
    for face in faces:
        outcomes[face_outcome(face)] += 1
    for outcome, count in outcomes.items():
        name = f'restyle_faces_total{{outcome="{outcome}"}}'
        assert _sample(after, name) - _sample(before, name) == count, name
    assert sum(outcomes.values()) >= 2
    distances = [t["result"]["identity_distance"] for t in tasks]
    total = _sample(after, "restyle_identity_distance_sum") - _sample(before, "restyle_identity_distance_sum")
    assert abs(total - sum(distances)) < 1e-3


def test_overlapping_scrapes_count_each_task_once(live: App, astronaut_png: bytes) -> None:
    from concurrent.futures import ThreadPoolExecutor

    caller = live.caller()
    before = live.client.get("/metrics").text
    for _ in range(2):
        live.client.post("/v1/tasks", headers=caller.headers, **multipart(astronaut_png, style="fresh"))
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda _: live.client.get("/metrics"), range(8)))
    assert all(page.status_code == 200 for page in pages)
    after = live.client.get("/metrics").text
    name = 'restyle_tasks_finished_total{status="SUCCEEDED"}'
    assert _sample(after, name) - _sample(before, name) == 2


def test_face_outcome_labels() -> None:
    assert face_outcome({"identity_distance": 0.3, "guard_passed": True}) == "passed"
    assert face_outcome({"identity_distance": 0.7, "guard_passed": False}) == "over_threshold"
    assert face_outcome({"identity_distance": None, "guard_passed": True}) == "not_measured"
    assert face_outcome({"identity_distance": 0.3, "guard_passed": True, "identity_lost": True}) == "over_threshold"
