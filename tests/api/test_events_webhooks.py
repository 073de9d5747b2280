"""Server-sent events of a task, and webhook delivery with retries to a receiver on 127.0.0.1: signed,
not redirected, refused for internal addresses at submit and checked again at delivery."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from restyle.api import create_app
from restyle.api.schemas import task_json
from restyle.imaging.urlguard import UrlGuard
from restyle.tasks.webhooks import SIGNATURE_HEADER, WebhookDispatcher, verify
from tests.api.conftest import App, Caller, build_settings, multipart


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
    expected = [
        "load", "decode", "precheck", "detect", "prepare", "embed_input", "engine", "retouch", "guard",
        "postcheck", "label", "encode", "store",
    ]  # fmt: skip
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
                status = statuses.pop(0) if statuses else 200
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", f"{receiver.url}/followed")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver({"/flaky": [500], "/down": [500, 503, 500], "/moved": [302, 307, 308]})
    yield running
    running.server.shutdown()


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """An app whose address guard admits 127.0.0.1, where the test itself runs webhook delivery
    (the app's own delivery loop idles: it polls once an hour)."""
    settings = build_settings(
        tmp_path_factory.mktemp("hooks"), images={"fetch_allow": ["127.0.0.1"]}, webhooks={"poll_seconds": 3600}
    )
    app = create_app(settings)
    with TestClient(app) as client:
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the worker did not warm up"
            time.sleep(0.1)
        yield App(client, app.state.services)


def dispatcher(app: App, resolve: dict[str, list[str]] | None = None) -> WebhookDispatcher:
    services = app.services
    return WebhookDispatcher(
        services.db,
        services.settings.webhooks,
        services.server_key,
        lambda row: task_json(services, row, services.settings.public_url),
        fetch_allow=services.settings.images.fetch_allow,
        resolver=(lambda host: (resolve or {})[host]) if resolve is not None else None,
    )


def deliver_all(app: App, caller: Caller, ids: list[str], hooks: WebhookDispatcher) -> dict[str, Any]:
    """Run deliveries until every task's webhook is delivered or failed; the tasks' webhook JSON by id."""

    def webhooks() -> dict[str, Any]:
        return {i: app.client.get(f"/v1/tasks/{i}", headers=caller.headers).json()["webhook"] for i in ids}

    async def drive() -> None:
        async with hooks.client() as client:
            deadline = time.monotonic() + 60
            while not all(hook["status"] in ("delivered", "failed") for hook in webhooks().values()):
                assert time.monotonic() < deadline, webhooks()
                await hooks.run_once(client)
                await asyncio.sleep(0.05)

    asyncio.run(drive())
    return webhooks()


def submit(app: App, caller: Caller, image: bytes, callback_url: str) -> str:
    fields = {"style": "sketch", "callback_url": callback_url}
    response = app.client.post("/v1/tasks?wait=0", headers=caller.headers, **multipart(image, **fields))
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_webhooks_are_signed_retried_and_recorded(
    hooked: App, astronaut_png: bytes, receiver: Receiver
) -> None:
    caller = hooked.caller(concurrency=3)
    secret = hooked.client.get("/v1/account", headers=caller.headers).json()["webhook_secret"]
    ids = {path: submit(hooked, caller, astronaut_png, receiver.url + path) for path in ("/flaky", "/down", "/moved")}
    tasks = deliver_all(hooked, caller, list(ids.values()), dispatcher(hooked))
    flaky, down, moved = (tasks[ids[path]] for path in ("/flaky", "/down", "/moved"))
    assert (flaky["status"], flaky["attempts"], flaky["last_error"]) == ("delivered", 2, None)
    assert flaky["delivered_at"] is not None and flaky["url"] == receiver.url + "/flaky"
    assert (down["status"], down["attempts"]) == ("failed", 3) and "HTTP 500" in down["last_error"]
    # redirects are not followed: each one is a failed attempt, and /followed is never asked
    assert (moved["status"], moved["attempts"]) == ("failed", 3) and "HTTP 308" in moved["last_error"]
    assert [path for path, _, _ in receiver.received if path not in ("/flaky", "/down")] == ["/moved"] * 3
    deliveries = [(headers, body) for path, headers, body in receiver.received if path == "/flaky"]
    assert len(deliveries) == 2
    headers, body = deliveries[-1]
    assert headers["Host"] == f"127.0.0.1:{receiver.port}"
    assert verify(secret, headers[SIGNATURE_HEADER], body)
    assert not verify("whsec_wrong", headers[SIGNATURE_HEADER], body)
    assert not verify(secret, headers[SIGNATURE_HEADER], body + b" ")
    payload = json.loads(body)
    assert payload["id"] == ids["/flaky"] and payload["status"] == "SUCCEEDED" and payload["result"]["images"]
    assert headers["Restyle-Event"] == "task.succeeded" and headers["Restyle-Task-Id"] == ids["/flaky"]


@pytest.mark.parametrize(
    ("callback_url", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://127.0.0.1:22/", "loopback"),
        ("http://[::1]:1/", "loopback"),
        ("http://0x7f000001/", "loopback"),
    ],
)
def test_internal_callback_urls_are_refused_at_submit(
    live: App, astronaut_png: bytes, callback_url: str, kind: str
) -> None:
    caller = live.caller()
    response = live.client.post(
        "/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png, callback_url=callback_url)
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("url.forbidden", "callback_url")
    assert error["message"].startswith("Parameter 'callback_url' points to") and kind in error["message"]


def test_the_allow_list_admits_loopback_callbacks_and_nothing_else(hooked: App, astronaut_png: bytes) -> None:
    caller = hooked.caller(concurrency=0)  # accepted tasks wait in the queue
    for refused in ("http://169.254.169.254/latest/meta-data/", "http://[::1]:1/", "http://10.0.0.1/hook"):
        response = hooked.client.post(
            "/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png, callback_url=refused)
        )
        assert response.status_code == 400 and response.json()["error"]["code"] == "url.forbidden", refused
    for admitted in ("http://127.0.0.1:22/", "http://0x7f000001/"):
        response = hooked.client.post(
            "/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png, callback_url=admitted)
        )
        assert response.status_code == 202, response.text
        hooked.client.post(f"/v1/tasks/{response.json()['id']}/cancel", headers=caller.headers)


def test_the_callback_address_is_checked_again_at_delivery(
    hooked: App, astronaut_png: bytes, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hooks.test resolves to the receiver at submit; at delivery one dispatcher's resolver answers
    # the metadata address (DNS rebinding): refused at once, nothing sent. Another resolver answers
    # 127.0.0.1: delivered there, to the checked address, with the name in the Host header.
    guard = UrlGuard(["127.0.0.1"], lambda host: {"hooks.test": ["127.0.0.1"]}[host])
    monkeypatch.setattr(hooked.services.tasks, "url_guard", guard)
    caller = hooked.caller()
    rebound = submit(hooked, caller, astronaut_png, f"http://hooks.test:{receiver.port}/rebound")
    hooks = deliver_all(hooked, caller, [rebound], dispatcher(hooked, {"hooks.test": ["169.254.169.254"]}))
    assert (hooks[rebound]["status"], hooks[rebound]["attempts"]) == ("failed", 1)
    assert "refused" in hooks[rebound]["last_error"] and "cloud metadata" in hooks[rebound]["last_error"]
    honest = submit(hooked, caller, astronaut_png, f"http://hooks.test:{receiver.port}/honest")
    hooks = deliver_all(hooked, caller, [honest], dispatcher(hooked, {"hooks.test": ["127.0.0.1"]}))
    assert hooks[honest]["status"] == "delivered"
    assert [(path, headers["Host"]) for path, headers, _ in receiver.received] == [
        ("/honest", f"hooks.test:{receiver.port}")
    ]
