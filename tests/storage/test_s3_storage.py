"""S3 storage specifics against moto's server on loopback: prefixes, multipart, presigned links,
start-up errors (missing bucket, refused credentials, no server, bad options)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import httpx
import pytest

from restyle.config import Settings
from restyle.devcluster.processes import free_port
from restyle.devcluster.s3server import S3Endpoint, running_s3_server
from restyle.errors import ConfigurationError, RestyleError, StorageUnavailable
from restyle.storage import create_storage
from restyle.storage.s3 import MIB, S3Storage
from restyle.storage.urls import UrlSigner
from tests.storage.contract_fixtures import BUCKET, s3_storage


def test_keys_live_under_the_prefix_and_prefixes_do_not_mix(s3_endpoint: S3Endpoint) -> None:
    first = s3_storage(s3_endpoint, prefix="env/one")
    second = s3_storage(s3_endpoint, prefix="env/two")
    first.put("tasks/a/input/image", b"1", "image/png")
    second.put("tasks/a/input/image", b"2")
    raw = s3_endpoint.client()
    head = raw.head_object(Bucket=BUCKET, Key="env/one/tasks/a/input/image")
    assert head["ContentType"] == "image/png" and head["ContentLength"] == 1
    assert first.get("tasks/a/input/image") == b"1" and second.get("tasks/a/input/image") == b"2"
    assert first.list_prefix("tasks") == ["tasks/a/input/image"]
    assert first.delete_prefix("tasks") == 1 and second.exists("tasks/a/input/image")


def test_a_bad_prefix_is_refused(s3_endpoint: S3Endpoint) -> None:
    with pytest.raises(RestyleError) as refused:
        s3_storage(s3_endpoint, prefix="a/../b")
    assert refused.value.param == "key"


def test_content_type_follows_the_key_when_not_given(s3_endpoint: S3Endpoint) -> None:
    storage = s3_storage(s3_endpoint, prefix="ct")
    storage.put("out/1-0.webp", b"RIFF")
    assert (
        s3_endpoint.client().head_object(Bucket=BUCKET, Key="ct/out/1-0.webp")["ContentType"] == "image/webp"
    )


def test_large_objects_go_up_in_parts_and_leave_no_upload_open(s3_endpoint: S3Endpoint) -> None:
    storage = s3_storage(
        s3_endpoint, prefix="mp", multipart_threshold_bytes=5 * MIB, multipart_part_bytes=5 * MIB
    )
    data = bytes(range(256)) * (11 * MIB // 256) + b"tail"  # 3 parts: 5 + 5 + 1 MiB
    storage.put("big/object.bin", data)
    assert storage.get("big/object.bin") == data
    raw = s3_endpoint.client()
    assert raw.head_object(Bucket=BUCKET, Key="mp/big/object.bin")["ETag"].strip('"').endswith("-3")
    # a conditional multipart write onto an existing key: refused, and its upload aborted
    assert storage.put_if_absent("big/object.bin", b"x" * (6 * MIB)) is False
    assert storage.get("big/object.bin") == data
    assert storage.put_if_absent("big/new.bin", data) is True and storage.get("big/new.bin") == data
    assert raw.list_multipart_uploads(Bucket=BUCKET, Prefix="mp/").get("Uploads", []) == []


def test_presigned_links_download_from_s3_itself(s3_endpoint: S3Endpoint) -> None:
    storage = s3_storage(s3_endpoint, prefix="links", links="presigned")
    storage.put("tasks/a/t/output/1-0.png", b"png bytes")
    url = storage.direct_url("tasks/a/t/output/1-0.png", 600)
    assert url is not None and url.startswith(s3_endpoint.url) and "X-Amz-Signature=" in url
    assert "X-Amz-Expires=600" in url
    assert httpx.get(url).content == b"png bytes"
    tampered = url.replace("1-0.png", "1-1.png")
    assert httpx.get(tampered).status_code in (403, 404)


def test_public_endpoint_and_proxy_links(s3_endpoint: S3Endpoint) -> None:
    public = s3_storage(s3_endpoint, links="presigned", public_endpoint_url="https://files.example.com")
    url = public.direct_url("a/b.png", 60)
    assert url is not None and urlsplit(url).netloc == "files.example.com"
    proxied = s3_storage(s3_endpoint)  # the default: links through the API
    assert proxied.direct_url("a/b.png", 60) is None


def test_task_links_use_the_storage_link_and_never_outlive_the_task(s3_endpoint: S3Endpoint) -> None:
    storage = s3_storage(s3_endpoint, links="presigned")
    signer = UrlSigner(b"k" * 32, 24 * 3600, storage.direct_url)
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    url = signer.task_url("http://api", "a/b.png", in_an_hour)
    expires = int(url.split("X-Amz-Expires=")[1].split("&")[0])
    assert url.startswith(s3_endpoint.url) and 3590 <= expires <= 3600
    proxied = UrlSigner(b"k" * 32, 24 * 3600, s3_storage(s3_endpoint, links="proxy").direct_url)
    assert proxied.task_url("http://api", "a/b.png", in_an_hour).startswith("http://api/v1/files/a/b.png?")


def test_the_factory_builds_it_from_settings(s3_endpoint: S3Endpoint, tmp_path: Path) -> None:
    options = s3_endpoint.storage_options(BUCKET, prefix="factory")
    storage = create_storage(Settings(data_dir=tmp_path, storage={"kind": "s3", "options": options}))
    assert isinstance(storage, S3Storage) and storage.healthcheck()
    assert storage.prefix == "factory/"


def test_a_missing_bucket_stops_start_up_with_its_name(s3_endpoint: S3Endpoint) -> None:
    with pytest.raises(ConfigurationError) as missing:
        s3_storage(s3_endpoint, bucket="no-such-bucket")
    assert missing.value.code == "storage.bucket_missing"
    assert "'no-such-bucket'" in missing.value.message and "RESTYLE_STORAGE__OPTIONS" in missing.value.message
    unchecked = s3_storage(s3_endpoint, bucket="no-such-bucket", check_bucket=False)
    assert unchecked.healthcheck() is False
    with pytest.raises(ConfigurationError) as at_write:
        unchecked.put("a", b"x")
    assert at_write.value.code == "storage.bucket_missing"


def test_no_server_is_storage_unavailable_after_the_retries() -> None:
    endpoint = S3Endpoint(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StorageUnavailable) as down:
        s3_storage(endpoint, max_attempts=2, connect_timeout_seconds=1)
    assert down.value.code == "storage.unavailable" and down.value.status == 503
    assert "2 attempt(s)" in down.value.message and endpoint.url in down.value.message


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"bucket": "ok-bucket", "bukket": "typo"}, "storage.options.bukket"),
        ({"bucket": "x"}, "storage.options.bucket"),
        ({"bucket": "ok-bucket", "links": "cdn"}, "storage.options.links"),
        ({"bucket": "ok-bucket", "multipart_part_bytes": 1024}, "storage.options.multipart_part_bytes"),
        ({}, "storage.options.bucket"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError) as bad:
        S3Storage(**options)
    assert bad.value.code == "storage.config" and named in bad.value.message


# --- credentials checked by moto's IAM (a separate server: IAM checks apply to every request) -------


@pytest.fixture(scope="module")
def iam_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[S3Endpoint, S3Endpoint, S3Endpoint]]:
    """A moto server checking credentials: (a writer's endpoint, a reader's endpoint, the server)."""
    setup_calls = 6  # the IAM and bucket calls below run before the checks start
    with running_s3_server(tmp_path_factory.mktemp("moto-iam"), iam_checks_after=setup_calls) as server:
        iam = boto3.client(
            "iam", endpoint_url=server.url, region_name=server.region,
            aws_access_key_id="setup", aws_secret_access_key="setup",
        )  # fmt: skip
        users = {}
        for name, actions in (("writer", ["s3:*"]), ("reader", ["s3:GetObject", "s3:ListBucket"])):
            iam.create_user(UserName=name)
            key = iam.create_access_key(UserName=name)["AccessKey"]
            policy = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
            }
            iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=json.dumps(policy))
            users[name] = S3Endpoint(server.url, key["AccessKeyId"], key["SecretAccessKey"])
        users["writer"].create_bucket("restyle-iam")  # the 7th call: already checked, and allowed
        yield users["writer"], users["reader"], server


def test_refused_credentials_stop_start_up(iam_s3: tuple[S3Endpoint, S3Endpoint, S3Endpoint]) -> None:
    writer, _reader, server = iam_s3
    good = s3_storage(writer, bucket="restyle-iam")
    good.put("a/b", b"x")
    assert good.get("a/b") == b"x"
    for wrong in (
        S3Endpoint(server.url, "AKIAUNKNOWN000000000", "nope"),
        S3Endpoint(server.url, writer.access_key_id, "bad"),
    ):
        with pytest.raises(ConfigurationError) as refused:
            s3_storage(wrong, bucket="restyle-iam")
        assert refused.value.code == "storage.access_denied" and "AWS_ACCESS_KEY_ID" in refused.value.message


def test_a_write_the_policy_forbids_is_access_denied(
    iam_s3: tuple[S3Endpoint, S3Endpoint, S3Endpoint],
) -> None:
    writer, reader, _server = iam_s3
    prefix = f"p-{uuid.uuid4().hex[:6]}"
    s3_storage(writer, bucket="restyle-iam", prefix=prefix).put("k", b"v")
    read_only = s3_storage(reader, bucket="restyle-iam", prefix=prefix, check_bucket=False)
    assert read_only.get("k") == b"v"
    with pytest.raises(ConfigurationError) as refused:
        read_only.put("k", b"w")
    assert refused.value.code == "storage.access_denied"
    assert s3_storage(writer, bucket="restyle-iam", prefix=prefix).get("k") == b"v"
