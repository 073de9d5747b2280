"""The TOS front driven by the real ``tos`` SDK in proxy mode against a live ``restyle serve``:
buckets, objects, x-tos-process with save-as, listing, and the TOS error codes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
import tos
from PIL import Image
from tos.exceptions import TosServerError

from restyle.api.fronts.tos.crc64 import crc64
from restyle.api.fronts.tos.listing import list_page
from restyle.api.fronts.tos.objects import ObjectMeta
from restyle.api.fronts.tos.target import bucket_of_host, resolve
from restyle.config import TosSettings
from tests.fronts.conftest import LiveServer

ENDPOINT = "http://tos-cn-beijing.volces.com"


def client_for(server: LiveServer, ak: str, sk: str) -> tos.TosClientV2:
    port = urlsplit(server.base_url).port
    return tos.TosClientV2(
        ak,
        sk,
        endpoint=ENDPOINT,
        region="cn-beijing",
        proxy_host="127.0.0.1",
        proxy_port=port,
        max_retry_count=0,
    )


def new_client(server: LiveServer) -> tos.TosClientV2:
    account = server.accounts.create(f"tos-{uuid.uuid4().hex[:8]}")
    credentials = server.keys.issue(account)
    return client_for(server, credentials.access_key_id, credentials.secret_access_key)


def bucket_name() -> str:
    return f"b-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def alice(live_server: LiveServer) -> tos.TosClientV2:
    return new_client(live_server)


@pytest.fixture(scope="module")
def bob(live_server: LiveServer) -> tos.TosClientV2:
    return new_client(live_server)


@pytest.fixture
def bucket(alice: tos.TosClientV2) -> Iterator[str]:
    name = bucket_name()
    alice.create_bucket(name)
    yield name
    for listed in alice.list_objects_type2(name).contents:
        alice.delete_object(name, listed.key)
    alice.delete_bucket(name)


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def server_error(call: object) -> TosServerError:
    assert callable(call)
    with pytest.raises(TosServerError) as caught:
        call()
    return caught.value


def test_bucket_lifecycle(alice: tos.TosClientV2, bob: tos.TosClientV2) -> None:
    name = bucket_name()
    alice.create_bucket(name)
    assert alice.head_bucket(name).region == "cn-beijing"
    assert name in [b.name for b in alice.list_buckets().buckets]
    assert name not in [b.name for b in bob.list_buckets().buckets]
    taken = server_error(lambda: bob.create_bucket(name))
    assert (taken.status_code, taken.code) == (409, "BucketAlreadyExists")
    alice.delete_bucket(name)
    assert server_error(lambda: alice.head_bucket(name)).status_code == 404
    assert name not in [b.name for b in alice.list_buckets().buckets]


def test_put_get_head_delete(alice: tos.TosClientV2, bucket: str, astronaut_png: bytes) -> None:
    put = alice.put_object(bucket, "photos/face one.png", content=astronaut_png, meta={"who": "astronaut"})
    assert put.hash_crc64_ecma == crc64(astronaut_png) and put.etag and put.request_id
    got = alice.get_object(bucket, "photos/face one.png")
    assert got.read() == astronaut_png  # the SDK checks the CRC-64 while reading
    assert got.content_length == len(astronaut_png) and got.content_type == "image/png"
    head = alice.head_object(bucket, "photos/face one.png")
    assert head.content_length == len(astronaut_png) and head.etag == put.etag
    assert head.meta["who"] == "astronaut" and head.hash_crc64_ecma == put.hash_crc64_ecma
    part = alice.get_object(bucket, "photos/face one.png", range_start=10, range_end=19)
    assert part.read() == astronaut_png[10:20] and part.content_range == f"bytes 10-19/{len(astronaut_png)}"
    beyond = server_error(lambda: alice.get_object(bucket, "photos/face one.png", range_start=10**9))
    assert (beyond.status_code, beyond.code) == (416, "InvalidRange")
    kept = server_error(
        lambda: alice.put_object(bucket, "photos/face one.png", content=b"x", forbid_overwrite=True)
    )
    assert (kept.status_code, kept.code) == (409, "FileAlreadyExists")
    md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    digest = server_error(
        lambda: alice.put_object(bucket, "photos/face one.png", content=b"x", content_md5=md5)
    )
    assert (digest.status_code, digest.code) == (400, "BadDigest")
    assert alice.get_object(bucket, "photos/face one.png").read() == astronaut_png  # neither was stored
    alice.delete_object(bucket, "photos/face one.png")
    missing = server_error(lambda: alice.get_object(bucket, "photos/face one.png"))
    assert (missing.status_code, missing.code) == (404, "NoSuchKey")
    assert missing.request_id and missing.ec


def test_large_upload_round_trip(alice: tos.TosClientV2, bucket: str) -> None:
    data = bytes(range(256)) * (5 * 4096 + 3)  # ~5 MB, several CRC lanes and a head
    assert alice.put_object(bucket, "big.bin", content=io.BytesIO(data)).hash_crc64_ecma == crc64(data)
    assert alice.get_object(bucket, "big.bin").read() == data


def test_list_objects_v2(alice: tos.TosClientV2, bucket: str) -> None:
    keys = ["a/1.txt", "a/2.txt", "a/b/3.txt", "c.txt", "d/4.txt"]
    for key in keys:
        alice.put_object(bucket, key, content=key.encode())
    assert [o.key for o in alice.list_objects_type2(bucket).contents] == keys
    assert [o.key for o in alice.list_objects_type2(bucket, max_keys=2).contents] == keys[:2]  # a total
    one = alice.list_objects_type2(bucket, delimiter="/", list_only_once=True)
    assert [o.key for o in one.contents] == ["c.txt"]
    assert [p.prefix for p in one.common_prefixes] == ["a/", "d/"]
    page = alice.list_objects_type2(bucket, prefix="a/", max_keys=2, list_only_once=True)
    assert [o.key for o in page.contents] == ["a/1.txt", "a/2.txt"] and page.is_truncated
    rest = alice.list_objects_type2(
        bucket, prefix="a/", continuation_token=page.next_continuation_token, list_only_once=True
    )
    assert [o.key for o in rest.contents] == ["a/b/3.txt"] and not rest.is_truncated
    assert rest.contents[0].size == len(b"a/b/3.txt")


def test_process_and_save_as(alice: tos.TosClientV2, bucket: str, astronaut_png: bytes) -> None:
    alice.put_object(bucket, "face.png", content=astronaut_png)
    small = alice.get_object(bucket, "face.png", process="image/resize,w_100")
    assert Image.open(io.BytesIO(small.read())).size == (100, 100)
    # a new upload under the same key must not be answered from the old bytes' processed copy
    wide = Image.new("RGB", (400, 200), "red")
    buffer = io.BytesIO()
    wide.save(buffer, format="PNG")
    alice.put_object(bucket, "face.png", content=buffer.getvalue())
    again = alice.get_object(bucket, "face.png", process="image/resize,w_100")
    assert Image.open(io.BytesIO(again.read())).size == (100, 50)
    alice.put_object(bucket, "face.png", content=astronaut_png)
    other = bucket_name()
    alice.create_bucket(other)
    try:
        saved = alice.get_object(
            bucket,
            "face.png",
            process="image/resize,w_64",
            save_bucket=b64(other),
            save_object=b64("s/64.png"),
        )
        result = json.loads(saved.read())
        assert result["bucket"] == other and result["object"] == "s/64.png" and result["status"] == "OK"
        stored = alice.get_object(other, "s/64.png").read()
        assert Image.open(io.BytesIO(stored)).size == (64, 64) and len(stored) == result["fileSize"]
        alice.delete_object(other, "s/64.png")
    finally:
        alice.delete_bucket(other)
    bad = server_error(lambda: alice.get_object(bucket, "face.png", process="image/resize,w_0"))
    assert (bad.status_code, bad.code) == (400, "InvalidArgument")


def test_errors(live_server: LiveServer, alice: tos.TosClientV2, bob: tos.TosClientV2, bucket: str) -> None:
    alice.put_object(bucket, "k.txt", content=b"hello")
    for call in (
        lambda: bob.get_object(bucket, "k.txt"),
        lambda: bob.put_object(bucket, "x.txt", content=b"x"),
        lambda: bob.list_objects_type2(bucket),
        lambda: bob.delete_bucket(bucket),
    ):
        denied = server_error(call)
        assert (denied.status_code, denied.code) == (403, "AccessDenied")
    assert server_error(lambda: bob.head_object(bucket, "k.txt")).status_code == 403  # HEAD: no body
    missing = server_error(lambda: alice.get_object(bucket_name(), "k.txt"))
    assert (missing.status_code, missing.code) == (404, "NoSuchBucket")
    not_empty = server_error(lambda: alice.delete_bucket(bucket))
    assert (not_empty.status_code, not_empty.code) == (409, "BucketNotEmpty")
    account = live_server.accounts.create(f"tos-{uuid.uuid4().hex[:8]}")
    credentials = live_server.keys.issue(account)
    wrong = client_for(live_server, credentials.access_key_id, credentials.secret_access_key + "x")
    mismatch = server_error(lambda: wrong.list_buckets())
    assert (mismatch.status_code, mismatch.code) == (403, "SignatureDoesNotMatch")
    unknown = server_error(lambda: client_for(live_server, "AKLTnosuchkey", "secret").list_buckets())
    assert (unknown.status_code, unknown.code) == (403, "InvalidAccessKeyId")
    aigc = server_error(
        lambda: alice._req(
            bucket=bucket,
            method="GET",
            params={"x-tos-process": "aigc/text_to_image"},
            data=b"{}",
            headers={"Content-Type": "application/json"},
            func="image_to_image",
        )
    )
    assert (aigc.status_code, aigc.code) == (501, "NotImplemented")


def signed_put_head(
    server: LiveServer, bucket: str, key: str, length: str = "Transfer-Encoding: chunked"
) -> tuple[tos.TosClientV2, bytes]:
    """A new account's client and the signed head of an ``Expect: 100-continue`` PutObject."""
    account = server.accounts.create(f"tos-{uuid.uuid4().hex[:8]}")
    credentials = server.keys.issue(account)
    client = client_for(server, credentials.access_key_id, credentials.secret_access_key)
    client.create_bucket(bucket)
    host = f"{bucket}.tos-cn-beijing.volces.com"
    headers = {"x-tos-content-sha256": "UNSIGNED-PAYLOAD", "Content-Type": "application/octet-stream"}
    request = tos.http.Request("PUT", f"http://{host}/{key}", f"/{key}", host, headers=headers)
    tos.auth.Auth(credentials.access_key_id, credentials.secret_access_key, "cn-beijing").sign_request(
        request
    )
    lines = [f"PUT http://{host}/{key} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    lines += ["Expect: 100-continue", length, "", ""]
    return client, "\r\n".join(lines).encode()


def read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(4096)
        if not more:
            break
        data += more
    return data


def test_an_object_over_the_limit_is_refused_before_its_body(live_server: LiveServer) -> None:
    bucket = bucket_name()
    client, head = signed_put_head(live_server, bucket, "huge.bin", "Content-Length: 1000000000")
    with socket.create_connection(
        ("127.0.0.1", urlsplit(live_server.base_url).port or 0), timeout=10
    ) as sock:
        sock.sendall(head)
        answer = read_head(sock)  # no 100 Continue: the body is never asked for
    assert answer.startswith(b"HTTP/1.1 400") and b"x-tos-request-id" in answer
    client.delete_bucket(bucket)


def test_expect_continue_and_chunked_upload(live_server: LiveServer) -> None:
    bucket = bucket_name()
    client, head = signed_put_head(live_server, bucket, "chunked.bin")
    chunks = [b"first part,", b"second part"]
    with socket.create_connection(
        ("127.0.0.1", urlsplit(live_server.base_url).port or 0), timeout=10
    ) as sock:
        sock.sendall(head)
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n")
        answer = read_head(sock)
    assert answer.startswith(b"HTTP/1.1 200")
    assert f"x-tos-hash-crc64ecma: {crc64(b''.join(chunks))}".encode() in answer
    assert client.get_object(bucket, "chunked.bin").read() == b"".join(chunks)
    client.delete_object(bucket, "chunked.bin")
    client.delete_bucket(bucket)


def test_crc64_check_value() -> None:
    assert crc64(b"123456789") == 0x995DC9BBDF1939FA
    assert crc64(b"") == 0


def test_bucket_from_host() -> None:
    settings = TosSettings(custom_domains={"img.example.test": "pics"}, endpoint_hosts=["s3.local.test"])
    assert bucket_of_host("mine.tos-cn-beijing.volces.com", settings) == (True, "mine")
    assert bucket_of_host("tos-cn-beijing.volces.com", settings) == (True, None)
    assert bucket_of_host("img.example.test:8080", settings) == (True, "pics")
    assert bucket_of_host("mine.s3.local.test", settings) == (True, "mine")
    assert bucket_of_host("127.0.0.1:8000", settings) == (False, None)


def test_list_page_collapses_common_prefixes_across_pages() -> None:
    metas = [
        ObjectMeta(k, 1, "e", 0, "text/plain", "2026-01-01T00:00:00.000+00:00")
        for k in ["a/1", "a/2", "b", "c/1", "c/2", "d"]
    ]
    first = list_page(metas, prefix="", delimiter="/", max_keys=2, after="")
    assert first.prefixes == ["a/"] and [m.key for m in first.contents] == ["b"] and first.next_token
    second = list_page(metas, prefix="", delimiter="/", max_keys=2, after="b")
    assert second.prefixes == ["c/"] and [m.key for m in second.contents] == ["d"]
    assert second.next_token is None


def scope_of(
    path: str, host: str, authorization: str = "", raw_path: bytes | None = None
) -> dict[str, object]:
    headers = [(b"host", host.encode())] + (
        [(b"authorization", authorization.encode())] if authorization else []
    )
    return {"type": "http", "path": path, "raw_path": raw_path or path.encode(), "headers": headers}


def test_resolve_finds_tos_requests_and_their_buckets() -> None:
    settings = TosSettings(custom_domains={"img.example.test": "pics"})
    h11_style = "http://mine.tos-cn-beijing.volces.com/a%3Fb/c.png"  # h11 keeps the absolute form whole
    target = resolve(
        scope_of("http://mine.tos-cn-beijing.volces.com/a?b/c.png", "", raw_path=h11_style.encode()), settings
    )
    assert target is not None and (target.bucket, target.key) == ("mine", "a?b/c.png")
    proxied = resolve(scope_of("/k.png", "mine.tos-cn-beijing.volces.com"), settings)  # httptools: path only
    assert proxied is not None and (proxied.bucket, proxied.key) == ("mine", "k.png")
    signed = resolve(scope_of("/k.png", "img.example.test:9000", "TOS4-HMAC-SHA256 Credential=..."), settings)
    assert signed is not None and signed.bucket == "pics"
    assert resolve(scope_of("/v1/tasks", "img.example.test", "Bearer key"), settings) is None  # native API
    assert resolve(scope_of("/readyz", "127.0.0.1:8000"), settings) is None


def test_a_deleted_accounts_bucket_name_comes_back_empty(
    live_server: LiveServer, bob: tos.TosClientV2
) -> None:
    account = live_server.accounts.create(f"tos-{uuid.uuid4().hex[:8]}")
    credentials = live_server.keys.issue(account)
    gone = client_for(live_server, credentials.access_key_id, credentials.secret_access_key)
    name = bucket_name()
    gone.create_bucket(name)
    gone.put_object(name, "secret.txt", content=b"old owner's data")
    live_server.accounts.delete(account.id)  # its bucket row goes by cascade, its files stay behind
    bob.create_bucket(name)
    assert bob.list_objects_type2(name).contents == []
    assert server_error(lambda: bob.get_object(name, "secret.txt")).code == "NoSuchKey"
    bob.delete_bucket(name)


def test_unsigned_request_gets_a_tos_error_body(live_server: LiveServer) -> None:
    answer = httpx.get(f"{live_server.base_url}/k.txt", headers={"Host": "some.tos-cn-beijing.volces.com"})
    body = answer.json()
    assert answer.status_code == 403 and body["Code"] == "AccessDenied"
    assert set(body) == {"Code", "Message", "RequestId", "HostId", "Resource", "EC"}
    assert body["RequestId"] == answer.headers["x-tos-request-id"] and body["Resource"] == "/k.txt"
    head = httpx.head(f"{live_server.base_url}/k.txt", headers={"Host": "some.tos-cn-beijing.volces.com"})
    assert head.status_code == 403 and head.content == b"" and head.headers["x-tos-request-id"]
    assert httpx.get(f"{live_server.base_url}/readyz").status_code == 200  # the native API is untouched


@pytest.mark.parametrize("size", [0, 1, 255, 256, 4095, 4096, 4097, 65_537, 1_000_003])
def test_crc64_matches_the_plain_loop_at_every_lane_length(size: int) -> None:
    from restyle.api.fronts.tos.crc64 import MASK, _update, lane_length

    data = bytes((i * 7919 + size) % 251 for i in range(size))
    expected = _update(MASK, data) ^ MASK
    assert crc64(data) == expected
    for lane in (64, 512, 4096):  # a forced length folds to the same value
        assert crc64(data, lane=lane) == expected
    assert 64 <= lane_length(size) <= 4096
