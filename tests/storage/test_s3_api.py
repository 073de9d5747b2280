"""A real ``restyle serve`` on 127.0.0.1 with RESTYLE_STORAGE__KIND=s3 (moto on loopback): a task
succeeds, its inputs and result live in the bucket, its link downloads the result, deleting the task
empties its folder; a missing bucket stops ``restyle serve`` with a clear line."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from restyle.auth.serverkey import ServerKey
from restyle.devcluster.processes import free_port, spawn, stop, wait_port
from restyle.devcluster.s3server import S3Endpoint
from restyle.storage.urls import UrlSigner
from tests.storage.contract_fixtures import BUCKET

pytestmark = pytest.mark.slow

ENV = {
    "RESTYLE_TASKS__LEASE_SECONDS": "5",
    "RESTYLE_TASKS__HEARTBEAT_SECONDS": "1",
    "RESTYLE_WORKERS__POLL_SECONDS": "0.2",
    "RESTYLE_SERVER__LOG_LEVEL": "warning",
    "OMP_NUM_THREADS": "1",
    "OMP_WAIT_POLICY": "PASSIVE",
}


def restyle_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from restyle.cli import main; main()", *args]


def s3_env(endpoint: S3Endpoint, **options: object) -> dict[str, str]:
    """The environment an operator sets for S3: kind, options as JSON, and the AWS variables."""
    values = {"bucket": BUCKET, "endpoint_url": endpoint.url, "addressing_style": "path", **options}
    return {
        "RESTYLE_STORAGE__KIND": "s3",
        "RESTYLE_STORAGE__OPTIONS": json.dumps(values),
        "AWS_ACCESS_KEY_ID": endpoint.access_key_id,
        "AWS_SECRET_ACCESS_KEY": endpoint.secret_access_key,
        "AWS_DEFAULT_REGION": endpoint.region,
    }


@pytest.fixture(scope="module")
def served(
    s3_endpoint: S3Endpoint, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, Path]]:
    """(base URL, demo API key, data dir) of a restyle serve whose files are in S3 under "served/"."""
    data_dir = tmp_path_factory.mktemp("served")
    port = free_port()
    env = {**os.environ, **ENV, **s3_env(s3_endpoint, prefix="served", links="presigned")}
    command = restyle_command("serve", "--data-dir", str(data_dir), "--port", str(port), "--workers", "1")
    process = spawn("api", command, env, data_dir)
    try:
        wait_port(port, 120, process, "restyle serve")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while httpx.get(base + "/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "the worker did not warm up"
            time.sleep(0.2)
        found = re.search(r"API key:\s+(\S+)", (data_dir / "api.log").read_text())
        assert found, (data_dir / "api.log").read_text()
        yield base, found.group(1), data_dir
    finally:
        stop(data_dir / "api.pid")


def test_a_task_succeeds_with_its_files_in_s3(
    served: tuple[str, str, Path], s3_endpoint: S3Endpoint, astronaut_png: bytes
) -> None:
    base, api_key, data_dir = served
    headers = {"Authorization": f"Bearer {api_key}"}
    body = {"image": {"base64": base64.b64encode(astronaut_png).decode()}, "style": "sketch", "seed": 1}
    submitted = httpx.post(
        base + "/v1/tasks", json=body, headers={**headers, "Prefer": "respond-async"}, timeout=30
    )
    assert submitted.status_code == 202, submitted.text
    task_id = submitted.json()["id"]
    deadline = time.monotonic() + 120
    while (task := httpx.get(f"{base}/v1/tasks/{task_id}", headers=headers, timeout=10).json())["status"] in (
        "PENDING",
        "RUNNING",
    ):
        assert time.monotonic() < deadline, task
        time.sleep(0.2)
    assert task["status"] == "SUCCEEDED", task
    (image,) = task["result"]["images"]
    # 1. the link is presigned by S3 (links=presigned) and downloads the result
    assert (
        image["url"].startswith(s3_endpoint.url + f"/{BUCKET}/served/") and "X-Amz-Signature" in image["url"]
    )
    download = httpx.get(image["url"], timeout=10)
    assert download.status_code == 200
    assert Image.open(io.BytesIO(download.content)).size == (image["width"], image["height"]) == (320, 320)
    # 2. inputs and result are objects in the bucket, under the prefix, with the task's keys
    raw = s3_endpoint.client()
    names = [item["Key"] for item in raw.list_objects_v2(Bucket=BUCKET, Prefix="served/").get("Contents", [])]
    assert f"served/{image['key']}" in names and any(task_id in name and "/input/" in name for name in names)
    # 3. the API serves the same object through a restyle-signed link (the default links=proxy)
    signer = UrlSigner(ServerKey.load_or_create(data_dir).derive("urls"))
    proxied = httpx.get(signer.url(base, image["key"]), timeout=10)
    assert proxied.status_code == 200 and proxied.content == download.content
    # 4. deleting the task removes its objects
    assert httpx.delete(f"{base}/v1/tasks/{task_id}", headers=headers, timeout=10).status_code == 204
    left = raw.list_objects_v2(Bucket=BUCKET, Prefix="served/").get("Contents", [])
    assert not [item["Key"] for item in left if task_id in item["Key"]]


def test_serve_refuses_to_start_without_its_bucket(s3_endpoint: S3Endpoint, tmp_path: Path) -> None:
    env = {**os.environ, **ENV, **s3_env(s3_endpoint, bucket="missing-bucket")}
    command = restyle_command(
        "serve", "--data-dir", str(tmp_path), "--port", str(free_port()), "--no-workers"
    )
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "bucket 'missing-bucket'" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr
