"""Storage fixtures: the loopback S3 server and the per-backend ``storage`` (tests/storage/contract_fixtures.py)."""

from __future__ import annotations

from tests.storage.contract_fixtures import s3_endpoint, storage  # noqa: F401
