"""A scripted HTTP server on 127.0.0.1 (ephemeral port, threaded) for URL fetching tests.

Paths: ``/face.png`` the image; ``/hops/N`` N redirects, then the image; ``/to?u=URL`` one redirect
to URL; ``/forever`` an image header then bytes without end; ``/declared`` a Content-Length over
any cap; ``/silent`` accepts and never answers; ``/html`` HTML labelled image/jpeg; ``/status/N``
that status; ``/gzip`` a compressed body. Every request's path and Host header is recorded.
"""

from __future__ import annotations

import gzip
import ssl
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up early (at their byte cap, on a refused certificate) are expected here."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError):
            super().handle_error(request, client_address)


class ImageServer:
    """Serves ``image`` and the misbehaving paths above; ``requests`` records (path, Host)."""

    def __init__(self, image: bytes, tls: ssl.SSLContext | None = None) -> None:
        self.image = image
        self.requests: list[tuple[str, str]] = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests.append((self.path, self.headers.get("Host", "")))
                server.answer(self)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path)
        if path.path == "/face.png":
            self._send(handler, 200, self.image, "image/png")
        elif path.path.startswith("/hops/"):
            left = int(path.path.rsplit("/", 1)[1])
            self._redirect(handler, f"/hops/{left - 1}" if left > 1 else "/face.png")
        elif path.path == "/to":
            self._redirect(handler, parse_qs(path.query)["u"][0])
        elif path.path == "/forever":
            handler.send_response(200)
            handler.send_header("Content-Type", "image/png")
            handler.end_headers()
            self._stream_forever(handler)
        elif path.path == "/declared":
            handler.send_response(200)
            handler.send_header("Content-Type", "image/png")
            handler.send_header("Content-Length", str(10**12))
            handler.end_headers()
            handler.wfile.write(self.image[:64])
        elif path.path == "/silent":
            self.stop.wait(30)  # the client gives up first; shutdown ends it
        elif path.path == "/html":
            self._send(handler, 200, b"<!doctype html><html><body>not a photo</body></html>", "image/jpeg")
        elif path.path.startswith("/status/"):
            self._send(handler, int(path.path.rsplit("/", 1)[1]), b"no", "text/plain")
        elif path.path == "/gzip":
            handler.send_response(200)
            body = gzip.compress(self.image)
            handler.send_header("Content-Type", "image/png")
            handler.send_header("Content-Encoding", "gzip")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        else:
            self._send(handler, 404, b"unknown path", "text/plain")

    def _stream_forever(self, handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(self.image[:16])
        chunk = bytes(65536)
        try:
            while not self.stop.is_set():
                handler.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass  # the client stopped reading at its cap
        handler.close_connection = True

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    @staticmethod
    def _redirect(handler: BaseHTTPRequestHandler, location: str) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


@contextmanager
def image_server(image: bytes, tls: ssl.SSLContext | None = None) -> Iterator[ImageServer]:
    server = ImageServer(image, tls)
    try:
        yield server
    finally:
        server.close()
