"""Server-sent events of a task, and webhook delivery with retries to a receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from restyle.tasks.webhooks import SIGNATURE_HEADER, verify
from tests.api.conftest import App, multipart


def read_events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    name = ""
    for line in lines:
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            yield name, json.loads(line[len("data: ") :])


def test_events_follow_a_task_from_queued_to_succeeded(live: App, astronaut_png: bytes) -> None:
    caller = live.caller(concurrency=0)  # held in the queue until we raise the limit
    task = live.client.post(
        "/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png, style="sketch")
    ).json()
    seen: list[tuple[str, dict[str, Any]]] = []
    with live.client.stream("GET", f"/v1/tasks/{task['id']}/events", headers=caller.headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for name, data in read_events(response.iter_lines()):
            seen.append((name, data))
            if name == "queued":
                assert data["queue_position"] is not None and data["status"] == "PENDING"
                live.services.accounts.update(caller.account.id, concurrency=1)
                live.services.queue.notify(task["id"])
    names = [name for name, _ in seen]
    assert names[0] == "queued" and "running" in names and names[-1] == "succeeded"
    steps = [data["step"] for name, data in seen if name == "step"]
    expected = ["load", "decode", "detect", "prepare", "embed_input", "engine", "retouch", "guard", "encode", "store"]
    assert steps == expected
    assert [data["progress"] for name, data in seen if name == "step"] == sorted(
        data["progress"] for name, data in seen if name == "step"
    )
    assert seen[-1][1]["id"] == task["id"] and seen[-1][1]["result"]["images"]


def test_events_end_with_failed_or_canceled(live: App, astronaut_png: bytes) -> None:
    import io

    from PIL import Image

    caller = live.caller(concurrency=0)
    flat = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 130, 140)).save(flat, format="PNG")
    doomed = live.client.post("/v1/tasks?wait=0", headers=caller.headers, **multipart(flat.getvalue())).json()
    held = live.client.post("/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png)).json()
    live.client.post(f"/v1/tasks/{held['id']}/cancel", headers=caller.headers)
    with live.client.stream("GET", f"/v1/tasks/{held['id']}/events", headers=caller.headers) as response:
        events = list(read_events(response.iter_lines()))
    assert [name for name, _ in events] == ["canceled"] and events[0][1]["status"] == "CANCELED"
    live.services.accounts.update(caller.account.id, concurrency=1)
    live.services.queue.notify(doomed["id"])
    with live.client.stream("GET", f"/v1/tasks/{doomed['id']}/events", headers=caller.headers) as response:
        events = list(read_events(response.iter_lines()))
    assert events[-1][0] == "failed" and events[-1][1]["error"]["code"] == "face.not_found"


class Receiver:
    """Records deliveries; answers each path with its scripted statuses, then 200."""

    def __init__(self, script: dict[str, list[int]]) -> None:
        self.script = script
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.path, dict(self.headers), body))
                statuses = receiver.script.get(self.path, [])
                self.send_response(statuses.pop(0) if statuses else 200)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver({"/flaky": [500], "/down": [500, 503, 500]})
    yield running
    running.server.shutdown()


def test_webhooks_are_signed_retried_and_recorded(
    live: App, astronaut_png: bytes, receiver: Receiver
) -> None:
    caller = live.caller(concurrency=2)
    secret = live.client.get("/v1/account", headers=caller.headers).json()["webhook_secret"]
    ids = {}
    for path in ("/flaky", "/down"):
        fields = {"style": "sketch", "callback_url": receiver.url + path}
        ids[path] = live.client.post(
            "/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png, **fields)
        ).json()["id"]
    deadline = time.monotonic() + 60
    while True:
        tasks = {
            path: live.client.get(f"/v1/tasks/{i}", headers=caller.headers).json() for path, i in ids.items()
        }
        if all(t["webhook"]["status"] in ("delivered", "failed") for t in tasks.values()):
            break
        assert time.monotonic() < deadline, tasks
        time.sleep(0.1)
    flaky, down = tasks["/flaky"]["webhook"], tasks["/down"]["webhook"]
    assert (flaky["status"], flaky["attempts"], flaky["last_error"]) == ("delivered", 2, None)
    assert flaky["delivered_at"] is not None and flaky["url"] == receiver.url + "/flaky"
    assert (down["status"], down["attempts"]) == ("failed", 3) and "HTTP 500" in down["last_error"]
    deliveries = [(headers, body) for path, headers, body in receiver.received if path == "/flaky"]
    assert len(deliveries) == 2
    headers, body = deliveries[-1]
    assert verify(secret, headers[SIGNATURE_HEADER], body)
    assert not verify("whsec_wrong", headers[SIGNATURE_HEADER], body)
    assert not verify(secret, headers[SIGNATURE_HEADER], body + b" ")
    payload = json.loads(body)
    assert payload["id"] == ids["/flaky"] and payload["status"] == "SUCCEEDED" and payload["result"]["images"]
    assert headers["Restyle-Event"] == "task.succeeded" and headers["Restyle-Task-Id"] == ids["/flaky"]
