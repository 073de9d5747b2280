"""The cluster's round-robin proxy: new connections alternate between API processes, a dead one is
skipped, and with none left the answer is 503 with Retry-After."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from restyle.devcluster.processes import free_port, wait_port


class Backend:
    """A tiny HTTP server that answers its own name."""

    def __init__(self, name: str) -> None:
        body = name.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxied() -> Iterator[tuple[str, list[Backend]]]:
    backends = [Backend("one"), Backend("two")]
    port = free_port()
    command = [sys.executable, "-m", "restyle.devcluster.proxy", "--port", str(port)]
    for backend in backends:
        command += ["--backend", f"127.0.0.1:{backend.port}"]
    process = subprocess.Popen(command)
    try:
        wait_port(port, 30, process, "the proxy")
        yield f"http://127.0.0.1:{port}", backends
    finally:
        process.terminate()
        process.wait(10)
        for backend in backends:
            backend.close()


def answers(url: str, count: int) -> list[str]:
    # a fresh connection per request: the proxy balances connections, not requests
    return [httpx.get(url, headers={"Connection": "close"}, timeout=10).text for _ in range(count)]


def test_connections_alternate_and_a_dead_backend_is_skipped(proxied: tuple[str, list[Backend]]) -> None:
    url, backends = proxied
    assert sorted(answers(url, 4)) == ["one", "one", "two", "two"]
    backends[0].close()
    assert answers(url, 3) == ["two", "two", "two"]
    backends[1].close()
    down = httpx.get(url, timeout=10)
    assert down.status_code == 503 and down.headers["Retry-After"] == "1"


def test_backends_must_be_on_loopback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "restyle.devcluster.proxy", "--port", "1", "--backend", "10.0.0.1:80"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2 and "must be on loopback" in done.stderr
