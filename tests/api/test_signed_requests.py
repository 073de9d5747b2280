"""The fronts' signed-request helper under a real uvicorn on 127.0.0.1: what uvicorn makes of an
absolute-form target (raw socket, both HTTP parsers), and the vendors' SDKs (volcengine's
VisualService, tos's TosClientV2 in proxy mode) against an endpoint that verifies and echoes."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from restyle.api.signed import STATE_KEY, raw_target, signed_account, verify_signed_request
from restyle.auth.accounts import AccountStore
from restyle.auth.keys import Credentials, KeyStore
from restyle.auth.models import AccountRow
from restyle.auth.serverkey import ServerKey
from restyle.config import LimitSettings
from restyle.errors import RestyleError
from restyle.tasks.db import Database

BUCKET_HOST = "mybucket.tos-cn-beijing.volces.com"
TosAccount = Annotated[AccountRow, Depends(signed_account("tos", "tos"))]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyStore]:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('signed') / 'restyle.db'}")
    db.migrate()
    yield KeyStore(db, ServerKey(b"s" * 32))
    db.dispose()


@pytest.fixture(scope="module")
def credentials(keys: KeyStore) -> Credentials:
    return keys.issue(AccountStore(keys.db, LimitSettings()).create("sdk-user"))


def _refusal(request: Request, error: RestyleError) -> Response:
    if request.method == "HEAD":  # the TOS SDK reads an error body of Content-Length bytes even for HEAD
        return Response(status_code=error.status, headers={"x-restyle-code": error.code})
    return JSONResponse({"code": error.code, "message": error.message}, status_code=error.status)


def _echo_app(keys: KeyStore) -> FastAPI:
    """The volc endpoint calls the helper itself; the TOS endpoint uses the dependency factory."""
    app = FastAPI()
    app.state.services = SimpleNamespace(keys=keys)

    @app.exception_handler(RestyleError)
    async def refused(request: Request, error: RestyleError) -> Response:
        return _refusal(request, error)

    @app.post("/")
    async def volc(request: Request) -> dict[str, Any]:
        imagex = request.query_params.get("Action") == "GetCVImageGenerateResult"
        service = "ImageX" if imagex else "cv"
        account = await verify_signed_request(request, scheme="volc", service=service, keys=keys)
        caller = getattr(request.state, STATE_KEY)
        body = json.loads(await request.body())  # the helper leaves the body readable
        if imagex:
            metadata = {"RequestId": "r", "Action": "GetCVImageGenerateResult", "Version": "2023-05-01"}
            return {"ResponseMetadata": {**metadata, "Service": service}, "Result": {"account": account.name}}
        return {
            "code": 10000,
            "account": account.name,
            "region": caller.signature.region,
            "req_key": body["req_key"],
        }

    @app.api_route("/{key:path}", methods=["HEAD", "GET", "PUT"])
    async def tos(account: TosAccount) -> Response:
        return Response(headers={"x-restyle-account": account.name, "x-tos-bucket-region": "cn-beijing"})

    return app


class _Server:
    """uvicorn on an ephemeral 127.0.0.1 port, in a thread."""

    def __init__(self, app: Any, http: str) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        config = uvicorn.Config(app, http=http, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture(scope="module")
def echo(keys: KeyStore) -> Iterator[_Server]:
    with _Server(_echo_app(keys), "auto") as server:
        yield server


# --- absolute-form targets through uvicorn's two HTTP parsers ----------------------------------------


def _tos_headers(
    credentials: Credentials, secret: str, path: str, params: dict[str, str]
) -> list[tuple[str, str]]:
    auth_module = pytest.importorskip("tos.auth")
    from tos.http import Request as TosRequest
    from tos.models2 import GenericInput

    sdk_request = TosRequest(
        "GET",
        f"http://{BUCKET_HOST}{path}",
        path,
        BUCKET_HOST,
        params=params,
        headers={},
        generic_input=GenericInput(request_date=datetime.now(UTC)),
    )
    auth_module.Auth(credentials.access_key_id, secret, "cn-beijing").sign_request(sdk_request)
    return [(name, str(value)) for name, value in sdk_request.headers.items()]


def _scope_app(keys: KeyStore) -> Any:
    """A bare ASGI app that reports the scope's path, raw_path and query and the helper's verdict."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        report: dict[str, Any] = {
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode(),
            "query": scope["query_string"].decode(),
            "target": raw_target(scope),
        }
        try:
            report["account"] = (
                await verify_signed_request(request, scheme="tos", service="tos", keys=keys)
            ).name
        except RestyleError as error:
            report["code"] = error.code
        await JSONResponse(report)(scope, receive, send)

    return app


def _raw_get(port: int, target: str, headers: list[tuple[str, str]]) -> dict[str, Any]:
    lines = [f"GET {target} HTTP/1.1", *(f"{name}: {value}" for name, value in headers), "Connection: close"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return dict(json.loads(body))


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_absolute_form_target_through_uvicorn(http: str, keys: KeyStore, credentials: Credentials) -> None:
    if http == "httptools":
        pytest.importorskip("httptools")
    path, query = "/input/face%20(1).png", "x-tos-process=image%2Finfo"
    good = _tos_headers(
        credentials, credentials.secret_access_key, "/input/face (1).png", {"x-tos-process": "image/info"}
    )
    bad = _tos_headers(credentials, "not-the-secret", "/input/face (1).png", {"x-tos-process": "image/info"})
    with _Server(_scope_app(keys), http) as server:
        absolute = _raw_get(server.port, f"http://{BUCKET_HOST}{path}?{query}", good)
        origin = _raw_get(server.port, f"{path}?{query}", good)
        forged = _raw_get(server.port, f"http://{BUCKET_HOST}{path}?{query}", bad)
    assert (
        absolute["account"] == origin["account"] == "sdk-user" and forged["code"] == "auth.signature_mismatch"
    )
    assert absolute["query"] == query
    if http == "h11":  # h11 keeps the whole absolute target as the path: routes will not match it
        assert absolute["raw_path"] == f"http://{BUCKET_HOST}{path}"
        assert absolute["path"] == f"http://{BUCKET_HOST}/input/face (1).png"
        assert absolute["target"] == f"http://{BUCKET_HOST}{path}?{query}"
    else:  # httptools drops scheme and authority; the Host header still names the bucket
        assert (absolute["raw_path"], absolute["path"]) == (path, "/input/face (1).png")
        assert absolute["target"] == f"{path}?{query}"


# --- the vendors' SDKs -------------------------------------------------------------------------------


def _visual(port: int, ak: str, sk: str) -> Any:
    visual = pytest.importorskip("volcengine.visual.VisualService")
    service = visual.VisualService()
    service.set_scheme("http")
    service.set_host(f"127.0.0.1:{port}")
    service.set_ak(ak)
    service.set_sk(sk)
    return service


def test_volcengine_sdk_requests_pass_and_a_wrong_secret_is_refused(
    echo: _Server, credentials: Credentials
) -> None:
    form = {
        "req_key": "img2img_anime_accelerated_maintain_id",
        "positive_prompt": "a b+c 中文",
        "return_url": True,
    }
    reply = _visual(echo.port, credentials.access_key_id, credentials.secret_access_key).cv_process(form)
    assert reply == {"code": 10000, "account": "sdk-user", "region": "cn-north-1", "req_key": form["req_key"]}
    with pytest.raises(Exception) as refused:
        _visual(echo.port, credentials.access_key_id, credentials.secret_access_key + "x").cv_process(form)
    assert "auth.signature_mismatch" in str(refused.value)
    with pytest.raises(Exception) as unknown:
        _visual(echo.port, "AKRSNOSUCHKEY", credentials.secret_access_key).cv_process(form)
    assert "auth.unknown_key" in str(unknown.value)


def test_imagex_sdk_requests_pass_for_service_imagex(echo: _Server, credentials: Credentials) -> None:
    imagex = pytest.importorskip("volcengine.imagex.v2.imagex_service")
    service = imagex.ImagexService()
    service.set_scheme("http")
    service.set_host(f"127.0.0.1:{echo.port}")
    service.set_ak(credentials.access_key_id)
    service.set_sk(credentials.secret_access_key)
    body = {"ReqJson": {"prompt": "x"}, "ModelAction": "CVProcess", "Outputs": ["out/a.png"]}
    reply = service.get_cv_image_generate_result({"ServiceId": "svc 1"}, body)
    assert reply["Result"] == {"account": "sdk-user"}
    service.set_sk("wrong")
    with pytest.raises(Exception, match="auth.signature_mismatch"):
        service.get_cv_image_generate_result({"ServiceId": "svc 1"}, body)


def _tos_client(port: int, ak: str, sk: str) -> Any:
    tos = pytest.importorskip("tos")
    return tos.TosClientV2(
        ak,
        sk,
        endpoint="http://tos-cn-beijing.volces.com",
        region="cn-beijing",
        proxy_host="127.0.0.1",
        proxy_port=port,
        max_retry_count=0,
        enable_crc=False,
    )


def test_tos_sdk_through_the_proxy_port_passes_and_a_wrong_secret_is_refused(
    echo: _Server, credentials: Credentials
) -> None:
    client = _tos_client(echo.port, credentials.access_key_id, credentials.secret_access_key)
    head = client.head_bucket("mybucket")
    assert head.status_code == 200 and head.header["x-restyle-account"] == "sdk-user"
    put = client.put_object("mybucket", "dir/a b+c.png", content=b"bytes")
    assert put.status_code == 200
    tos = pytest.importorskip("tos")
    with pytest.raises(tos.exceptions.TosServerError) as refused:
        _tos_client(echo.port, credentials.access_key_id, "wrong").head_bucket("mybucket")
    assert (
        refused.value.status_code == 403
        and refused.value.header["x-restyle-code"] == "auth.signature_mismatch"
    )


def test_the_helper_reads_no_unsigned_tos_upload_body(keys: KeyStore, credentials: Credentials) -> None:
    seen: dict[str, Any] = {"received": 0}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        async def counting() -> Any:
            message = await receive()
            seen["received"] += len(message.get("body", b""))
            return message

        request = Request(scope, counting)
        seen["account"] = (await verify_signed_request(request, scheme="tos", service="tos", keys=keys)).name
        seen["before_route"] = seen["received"]
        seen["body"] = len(await request.body())
        await Response()(scope, receive, send)

    with _Server(app, "auto") as server:
        _tos_client(server.port, credentials.access_key_id, credentials.secret_access_key).put_object(
            "mybucket", "big.bin", content=b"x" * 100_000
        )
    assert seen == {"account": "sdk-user", "before_route": 0, "body": 100_000, "received": 100_000}
