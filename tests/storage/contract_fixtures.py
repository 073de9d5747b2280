"""Fixtures of the storage contract: a moto S3 server on loopback and one storage per backend.

tests/storage/conftest.py exposes them to every storage test. The S3 server is moto's standalone
server in its own process (see restyle.devcluster.s3server), started once per session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from restyle.devcluster.s3server import S3Endpoint, running_s3_server
from restyle.storage.base import Storage
from restyle.storage.local import LocalStorage

BUCKET = "restyle-tests"


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Endpoint]:
    """A moto S3 server process with the bucket ``restyle-tests``."""
    with running_s3_server(tmp_path_factory.mktemp("moto")) as endpoint:
        endpoint.create_bucket(BUCKET)
        yield endpoint


def s3_storage(endpoint: S3Endpoint, **options: Any) -> Storage:
    """An S3 storage under a fresh prefix of the test bucket (tests never see each other's keys)."""
    from restyle.storage.s3 import S3Storage

    values: dict[str, Any] = {"prefix": f"t-{uuid.uuid4().hex[:10]}", "max_attempts": 2, **options}
    return S3Storage(**endpoint.storage_options(values.pop("bucket", BUCKET), **values))


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Each backend in turn: the contract tests must pass on both."""
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
    return s3_storage(endpoint)
