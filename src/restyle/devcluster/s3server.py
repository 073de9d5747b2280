"""An S3-compatible server on loopback: moto's standalone server (``moto[server]``, the test extra).

moto was chosen because it is a pip package (no Docker, no binary download), runs as its own HTTP
process like a real S3 endpoint, and implements what the S3 storage uses: conditional writes
(If-None-Match), multipart uploads, presigned URLs, and IAM-checked credentials when asked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restyle.devcluster.processes import free_port, wait_port

ACCESS_KEY_ID = "restyle-dev"  # moto accepts any key unless IAM checks are on
SECRET_ACCESS_KEY = "restyle-dev-secret"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Endpoint:
    """Where a loopback S3 server listens, and the credentials to use with it."""

    url: str
    access_key_id: str = ACCESS_KEY_ID
    secret_access_key: str = SECRET_ACCESS_KEY
    region: str = REGION

    def client(self) -> Any:
        """A boto3 S3 client for this endpoint (path-style addressing)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=self.region,
            config=Config(
                s3={"addressing_style": "path"}, retries={"total_max_attempts": 2, "mode": "standard"}
            ),
        )

    def create_bucket(self, bucket: str) -> None:
        self.client().create_bucket(Bucket=bucket)

    def storage_options(self, bucket: str, **extra: Any) -> dict[str, Any]:
        """``storage.options`` of an S3 storage on this server."""
        return {
            "bucket": bucket,
            "endpoint_url": self.url,
            "region": self.region,
            "addressing_style": "path",
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            **extra,
        }


def moto_command(port: int) -> list[str]:
    """The command line of moto's server on ``127.0.0.1:port``."""
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def moto_env(base: Mapping[str, str] | None = None, *, iam_checks_after: int | None = None) -> dict[str, str]:
    """The server's environment; ``iam_checks_after=N`` makes every request after the first N
    authenticate against moto's IAM (so refused credentials can be tested)."""
    env = dict(os.environ if base is None else base)
    if iam_checks_after is not None:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(iam_checks_after)
    return env


@contextmanager
def running_s3_server(log_dir: Path, *, iam_checks_after: int | None = None) -> Iterator[S3Endpoint]:
    """A moto server process on a free loopback port for the duration of the block."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "moto.log", "ab") as log:
        process = subprocess.Popen(
            moto_command(port), env=moto_env(iam_checks_after=iam_checks_after), stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        wait_port(port, 60, process, "the moto S3 server")
        yield S3Endpoint(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
