"""S3 faults: a store that keeps failing is retried, then the submit answers 503 or the task FAILS with
``storage.unavailable``, and no half-written object is left; the next task succeeds once S3 answers again.

A fault proxy on loopback sits between restyle and moto's S3 server and, when armed, answers 503
SlowDown (or drops the connection) to chosen PUT requests, counting them.
"""

from __future__ import annotations

import base64
import http.client
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from restyle.api import create_app
from restyle.devcluster.s3server import S3Endpoint, running_s3_server
from restyle.errors import StorageUnavailable
from restyle.storage.s3 import MIB, S3Storage
from tests.api.conftest import build_settings

BUCKET = "restyle-faults"
SLOW_DOWN = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"


class FaultProxy:
    """An HTTP proxy to the S3 server that fails PUTs whose path and query contain ``fail_match``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.fail_match: str | None = None
        self.mode = "503"  # or "drop": close the connection without an answer
        self.failed: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                assert "chunked" not in self.headers.get("Transfer-Encoding", ""), (
                    "chunked bodies are not relayed"
                )
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "PUT" and proxy.fail_match and proxy.fail_match in self.path:
                    proxy.failed.append(self.path)
                    if proxy.mode == "drop":
                        self.close_connection = True
                        return
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOW_DOWN)))
                    self.end_headers()
                    self.wfile.write(SLOW_DOWN)
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in (
                        "content-length",
                        "connection",
                        "transfer-encoding",
                        "server",
                        "date",
                    ):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def arm(self, match: str, mode: str = "503") -> None:
        self.fail_match, self.mode, self.failed = match, mode, []

    def disarm(self) -> None:
        self.fail_match = None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[S3Endpoint, FaultProxy]]:
    with running_s3_server(tmp_path_factory.mktemp("moto-faults")) as endpoint:
        endpoint.create_bucket(BUCKET)
        proxy = FaultProxy(endpoint.url)
        try:
            yield endpoint, proxy
        finally:
            proxy.close()


def through_proxy(endpoint: S3Endpoint, proxy: FaultProxy, **options: Any) -> dict[str, Any]:
    values = {"endpoint_url": proxy.url, "max_attempts": 3, "read_timeout_seconds": 5, **options}
    return endpoint.storage_options(BUCKET, **values)


def objects(endpoint: S3Endpoint, prefix: str) -> list[str]:
    answer = endpoint.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for item in answer.get("Contents", [])]


def open_uploads(endpoint: S3Endpoint, prefix: str) -> list[str]:
    answer = endpoint.client().list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
    return [upload["Key"] for upload in answer.get("Uploads", [])]


@pytest.mark.parametrize("mode", ["503", "drop"])
def test_a_failing_put_is_retried_then_unavailable(s3: tuple[S3Endpoint, FaultProxy], mode: str) -> None:
    endpoint, proxy = s3
    storage = S3Storage(**through_proxy(endpoint, proxy, prefix=f"single-{mode}"))
    proxy.arm("/object.png", mode)
    with pytest.raises(StorageUnavailable) as down:
        storage.put("object.png", b"png")
    proxy.disarm()
    assert len(proxy.failed) == 3  # max_attempts: the first try and two retries with backoff
    assert down.value.code == "storage.unavailable" and "3 attempt(s)" in down.value.message
    assert objects(endpoint, f"single-{mode}/") == []
    storage.put("object.png", b"png")  # S3 is back: the same call works
    assert storage.get("object.png") == b"png"


def test_a_multipart_upload_that_fails_midway_is_aborted(s3: tuple[S3Endpoint, FaultProxy]) -> None:
    endpoint, proxy = s3
    options = through_proxy(endpoint, proxy, prefix="multi", multipart_threshold_bytes=5 * MIB)
    storage = S3Storage(**{**options, "multipart_part_bytes": 5 * MIB})
    proxy.arm("partNumber=2")  # the first part goes up, the second keeps failing
    with pytest.raises(StorageUnavailable):
        storage.put("big.bin", b"z" * (11 * MIB))
    proxy.disarm()
    assert len(proxy.failed) == 3
    assert objects(endpoint, "multi/") == [] and open_uploads(endpoint, "multi/") == []


def test_a_task_whose_result_cannot_be_stored_fails_with_a_clear_code(
    s3: tuple[S3Endpoint, FaultProxy], tmp_path: Path, astronaut_png: bytes
) -> None:
    endpoint, proxy = s3
    storage = {"kind": "s3", "options": through_proxy(endpoint, proxy, prefix="tasks-app")}
    app = create_app(build_settings(tmp_path, storage=storage))
    with TestClient(app) as client:
        services = app.state.services
        account = services.accounts.create("s3-faults", qps=100, concurrency=1)
        headers = {
            "Authorization": f"Bearer {services.keys.issue(account).api_key}",
            "Prefer": "respond-async",
        }
        body = {"image": {"base64": base64.b64encode(astronaut_png).decode()}, "style": "sketch"}

        def run_task() -> dict[str, Any]:
            submitted = client.post("/v1/tasks", json=body, headers=headers)
            assert submitted.status_code == 202, submitted.text  # the input upload went through
            deadline = time.monotonic() + 120
            while True:
                task: dict[str, Any] = client.get(
                    f"/v1/tasks/{submitted.json()['id']}", headers=headers
                ).json()
                if task["status"] not in ("PENDING", "RUNNING"):
                    return task
                assert time.monotonic() < deadline, task
                time.sleep(0.1)

        # 0. inputs cannot be stored: the submit answers 503 storage.unavailable and makes no task
        proxy.arm("/input/")
        refused = client.post("/v1/tasks", json=body, headers=headers)
        proxy.disarm()
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "storage.unavailable", (
            refused.text
        )
        assert len(proxy.failed) == 3
        assert client.get("/v1/tasks", headers=headers).json()["data"] == []
        assert objects(endpoint, f"tasks-app/tasks/{account.id}/") == []
        # 1. results cannot be stored: retried, then FAILED with storage.unavailable, no result object
        proxy.arm("/output/")
        failed = run_task()
        proxy.disarm()
        assert failed["status"] == "FAILED" and failed["error"]["code"] == "storage.unavailable", failed
        assert "attempt(s)" in failed["error"]["message"] and failed["result"] is None
        assert len(proxy.failed) == 3 and all(failed["id"] in path for path in proxy.failed)
        prefix = f"tasks-app/tasks/{account.id}/{failed['id']}/"
        assert [key for key in objects(endpoint, prefix) if "/output/" in key] == []
        assert [
            key for key in objects(endpoint, prefix) if "/input/" in key
        ]  # the input is kept as submitted
        # 2. S3 answers again: the next task succeeds and its link downloads
        succeeded = run_task()
        assert succeeded["status"] == "SUCCEEDED", succeeded
        url = succeeded["result"]["images"][0]["url"]  # links=proxy (the default): served by the API from S3
        assert "/v1/files/" in url and client.get(url).status_code == 200
