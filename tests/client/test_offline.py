"""The client's parts that need no server: a light import, input encoding, the retry rule, SSE decoding."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restyle.client import (
    ApiError,
    Client,
    ClientError,
    ConnectionFailed,
    InvalidInput,
    RateLimited,
    ServerUnavailable,
)
from restyle.client.core import ClientCore, EventDecoder, event_outcome
from restyle.client.errors import api_error
from restyle.client.inputs import image_part, submit_parts
from restyle.client.models import Progress
from restyle.errors import RestyleError

HEAVY = ("numpy", "cv2", "torch", "PIL", "fastapi", "starlette", "sqlalchemy", "dlib", "onnxruntime",
         "restyle.api", "restyle.pipeline", "restyle.engines", "restyle.domain", "restyle.tasks", "restyle.config")  # fmt: skip


def test_importing_the_client_loads_no_service_stack() -> None:
    code = (
        "import sys, restyle.client, restyle.client.batch\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "", f"import restyle.client loaded {done.stdout.strip()}"


def test_images_become_files_or_url_fields(tmp_path: Path) -> None:
    rgb = np.zeros((8, 6, 3), np.uint8)
    rgb[..., 0] = 200
    name, data, kind = image_part(rgb)  # type: ignore[misc]
    decoded = np.asarray(Image.open(io.BytesIO(data)))
    assert (
        (name, kind) == ("image.png", "image/png") and decoded.shape == (8, 6, 3) and decoded[0, 0, 0] == 200
    )
    assert image_part(Image.fromarray(rgb), "style_image")[0] == "style_image.png"  # type: ignore[index]
    photo = tmp_path / "me.jpg"
    photo.write_bytes(b"\xff\xd8 bytes as they are")
    assert image_part(photo) == ("me.jpg", b"\xff\xd8 bytes as they are", "image/jpeg")
    assert image_part(str(photo)) == image_part(photo)
    assert image_part(b"raw")[1] == b"raw"  # type: ignore[index]
    # a URL is sent for the server to fetch, never downloaded here
    fields, files = submit_parts("https://example.com/me.jpg", rgb, {"style": "anime", "hd": None, "seed": 3,
                                 "face_switch": False, "logo_info": {"add_logo": True}})  # fmt: skip
    assert fields == {"image": "https://example.com/me.jpg", "style": "anime", "seed": "3",
                      "face_switch": "false", "logo_info": '{"add_logo": true}'}  # fmt: skip
    assert list(files) == ["style_image"]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (np.zeros((4, 4, 3), np.float32), "uint8"),
        (np.zeros((4, 4, 2), np.uint8), "(4, 4, 2)"),
        (12, "not int"),
        ("missing/nowhere.jpg", "cannot be read"),
    ],
)
def test_an_input_that_cannot_be_sent_names_the_parameter(value: object, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        image_part(value, "style_image")
    assert caught.value.param == "style_image" and words in caught.value.message
    assert isinstance(caught.value, ClientError) and isinstance(caught.value, RestyleError)


def test_retries_honour_retry_after_and_stop() -> None:
    core = ClientCore("http://127.0.0.1:1", "k", max_retries=3, max_retry_wait=30)
    delays = [core.retry_delay(0, 4.0) for _ in range(200)]
    assert all(d is not None and 4.0 <= d <= 4.0 + 0.6 for d in delays)  # never sooner than Retry-After
    assert len({round(d, 3) for d in delays if d is not None}) > 50  # jittered
    assert [core.retry_delay(n, None) is not None for n in range(5)] == [True, True, True, False, False]
    assert 2.0 <= (core.retry_delay(2, None) or 0) < 2.5  # 0.5 * 2**2 without a Retry-After
    assert core.retry_delay(0, 31) is None  # the server asks for longer than this client waits
    assert 30 <= (ClientCore("http://h", max_retries=20).retry_delay(12, None) or 0) <= 33.2  # capped backoff


def test_error_answers_become_typed_errors() -> None:
    body = b'{"error": {"code": "limit.rate", "message": "Too many.", "param": null}, "request_id": "r1"}'
    limited = api_error(429, body, {"retry-after": "3"})
    assert isinstance(limited, RateLimited) and limited.retry_after == 3 and limited.request_id == "r1"
    assert (limited.code, limited.status, limited.param) == ("limit.rate", 429, None)
    proxy = api_error(503, b"<html>bad gateway</html>", {})
    assert (
        isinstance(proxy, ServerUnavailable) and proxy.code == "http.503" and "bad gateway" in proxy.message
    )
    assert type(api_error(400, b'{"error": {"code": "x", "message": "m", "param": "hd"}}', {})) is ApiError


def test_server_sent_events_are_decoded() -> None:
    decoder = EventDecoder()
    lines = [": keep-alive", "event: step", 'data: {"id":"t","status":"RUNNING","step":"engine","progress":0.5}',
             "", "event: succeeded", 'data: {"id":"t","status":"SUCCEEDED"}', ""]  # fmt: skip
    decoded = [event_outcome("t", decoder.feed(line)) for line in lines]
    assert decoded[3] == Progress("t", "RUNNING", "engine", 0.5)
    assert decoded[6] == {"id": "t", "status": "SUCCEEDED"}
    assert [d for i, d in enumerate(decoded) if i not in (3, 6)] == [None] * 5


def test_a_server_url_without_scheme_is_refused() -> None:
    with pytest.raises(ClientError, match="must start with http"):
        Client("127.0.0.1:8000", "key")


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTYLE_API_KEY", "rsk_from_env")
    assert Client("http://127.0.0.1:1/").core.api_key == "rsk_from_env"
    assert Client("http://127.0.0.1:1", "rsk_given").core.headers() == {"Authorization": "Bearer rsk_given"}
    assert Client("http://127.0.0.1:1/").core.base_url == "http://127.0.0.1:1"


def test_a_server_that_is_not_there_is_connection_failed() -> None:
    with socket.socket() as sock:  # a loopback port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        Client(f"http://127.0.0.1:{port}", "k", max_retries=1) as client,
        pytest.raises(ConnectionFailed) as down,
    ):
        client.styles()
    assert down.value.code == "client.connection" and f"127.0.0.1:{port}" in down.value.message


def test_a_server_that_answers_html_is_a_typed_error_not_a_crash() -> None:
    import http.server
    import threading

    from restyle.client import Client
    from restyle.client.errors import ApiError

    class CaptivePortal(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
            body = b"<html><body>Sign in to the Wi-Fi</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CaptivePortal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with (
            Client(f"http://127.0.0.1:{server.server_address[1]}", "key") as client,
            pytest.raises(ApiError) as caught,
        ):
            client.get("some-task")
        assert caught.value.code == "response.not_json" and "text/html" in caught.value.message
    finally:
        server.shutdown()
        server.server_close()
