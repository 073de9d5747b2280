"""URL inputs through the API: checked at submit, fetched by the worker (not the request), and a
failed fetch is a FAILED task with its code. The image server is a real one on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from restyle.api import create_app
from restyle.errors import UrlError
from tests.api.conftest import App, build_settings
from tests.imaging.http_server import ImageServer, image_server


@pytest.fixture(scope="module")
def allowing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """An app with one worker whose address guard admits 127.0.0.1 (and nothing else internal)."""
    images = {"fetch_allow": ["127.0.0.1"], "fetch_timeout_seconds": 5, "fetch_connect_timeout_seconds": 2}
    app = create_app(build_settings(tmp_path_factory.mktemp("urls"), images=images))
    with TestClient(app) as client:
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the worker did not warm up"
            time.sleep(0.1)
        yield App(client, app.state.services)


@pytest.fixture(scope="module")
def server(astronaut_png: bytes) -> Iterator[ImageServer]:
    with image_server(astronaut_png) as running:
        yield running


def test_a_url_task_is_fetched_by_the_worker_and_succeeds(allowing: App, server: ImageServer) -> None:
    caller = allowing.caller(concurrency=0)  # held in the queue: the submit itself must not fetch
    body = {"image": {"url": server.url("/face.png")}, "style": "sketch"}
    submitted = allowing.client.post("/v1/tasks?wait=0", headers=caller.headers, json=body)
    assert submitted.status_code == 202, submitted.text
    task_id = submitted.json()["id"]
    assert [path for path, _ in server.requests if path == "/face.png"] == []
    allowing.services.accounts.update(caller.account.id, concurrency=1)
    allowing.services.queue.notify(task_id)
    task = allowing.wait_final(caller, task_id)
    assert task["status"] == "SUCCEEDED", task
    assert task["result"]["images"] and task["result"]["identity_distance"] is not None
    assert ("/face.png", f"127.0.0.1:{server.port}") in server.requests


@pytest.mark.parametrize(
    ("path", "code", "text"),
    [
        ("/status/404", "url.fetch_failed", "HTTP 404"),
        ("/html", "url.not_image", "did not return an image"),
        ("/hops/4", "url.fetch_failed", "more than 3 times"),
        ("/to?u=http://169.254.169.254/latest/meta-data/", "url.forbidden", "cloud metadata"),
    ],
)
def test_a_failed_fetch_fails_the_task_with_its_code(
    allowing: App, server: ImageServer, path: str, code: str, text: str
) -> None:
    caller = allowing.caller()
    body = {"image": {"url": server.url(path)}, "style_image": {"url": server.url("/face.png")}}
    submitted = allowing.client.post("/v1/tasks?wait=0", headers=caller.headers, json=body)
    assert submitted.status_code == 202, submitted.text
    task = allowing.wait_final(caller, submitted.json()["id"])
    assert task["status"] == "FAILED", task
    assert task["error"]["code"] == code and text in task["error"]["message"], task["error"]
    assert "Parameter 'image'" in task["error"]["message"]


@pytest.mark.parametrize(
    ("url", "code", "text"),
    [
        ("http://169.254.169.254/latest/meta-data/", "url.forbidden", "cloud metadata"),
        ("http://10.0.0.1/face.png", "url.forbidden", "private"),
        ("http://[::1]:8080/face.png", "url.forbidden", "loopback"),
        ("http://[::ffff:169.254.169.254]/", "url.forbidden", "IPv4-mapped"),
        ("http://0xa9fea9fe/", "url.forbidden", "cloud metadata"),
        ("http://metadata.google.internal/computeMetadata/v1/", "url.forbidden", "cloud metadata name"),
        ("ftp://127.0.0.1/face.png", "url.invalid", "http:// or https://"),
        ("http://user:pw@127.0.0.1/face.png", "url.invalid", "user name or password"),
    ],
)
def test_a_forbidden_or_malformed_url_is_a_400_at_submit(allowing: App, url: str, code: str, text: str) -> None:
    caller = allowing.caller()
    for body in ({"image": {"url": url}}, {"image": url}):
        response = allowing.client.post("/v1/tasks?wait=0", headers=caller.headers, json=body)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["code"], error["param"]) == (code, "image") and text in error["message"], error
    assert allowing.client.get("/v1/tasks", headers=caller.headers).json()["data"] == []


def test_a_style_image_url_is_checked_under_its_own_name(allowing: App, astronaut_png: bytes) -> None:
    caller = allowing.caller()
    response = allowing.client.post(
        "/v1/tasks",
        headers=caller.headers,
        files={"image": ("me.png", astronaut_png, "image/png")},
        data={"style_image": "http://192.168.0.10/style.png"},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "style_image"
    assert response.json()["error"]["code"] == "url.forbidden"


def test_url_errors_are_400_or_413() -> None:
    statuses = {cls.code: cls.status for cls in UrlError.__subclasses__()}
    assert statuses == {
        "url.invalid": 400,
        "url.forbidden": 400,
        "url.fetch_failed": 400,
        "url.timeout": 400,
        "url.too_large": 413,
        "url.not_image": 400,
    }
