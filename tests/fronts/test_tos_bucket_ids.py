"""TOS buckets keep their objects under a storage id that is new for every bucket made: a bucket
deleted and made again under its name starts empty, also while an upload to the old bucket is still
arriving (it is refused with NoSuchBucket, never stored into the new one); migration 0005 keeps the
objects of buckets made before ids existed."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tos
from sqlalchemy import create_engine, text
from tos.exceptions import TosServerError

from restyle.migrations import upgrade
from restyle.storage.buckets import BucketStore, bucket_prefix
from tests.fronts.conftest import LiveServer
from tests.fronts.test_tos import bucket_name, client_for

CHUNK = b"x" * 65536


@pytest.fixture(scope="module")
def alice(live_server: LiveServer) -> tos.TosClientV2:
    account = live_server.accounts.create(f"ids-{uuid.uuid4().hex[:8]}", qps=100)
    creds = live_server.keys.issue(account)
    return client_for(live_server, creds.access_key_id, creds.secret_access_key)


def empty_and_delete(client: tos.TosClientV2, bucket: str) -> None:
    for listed in client.list_objects_type2(bucket).contents:
        client.delete_object(bucket, listed.key)
    client.delete_bucket(bucket)


def test_a_recreated_bucket_has_a_new_id_and_starts_empty(
    live_server: LiveServer, alice: tos.TosClientV2
) -> None:
    name = bucket_name()
    alice.create_bucket(name)
    first = BucketStore(live_server.db).get(name)
    alice.put_object(name, "kept.txt", content=b"old")
    empty_and_delete(alice, name)
    alice.create_bucket(name)
    second = BucketStore(live_server.db).get(name)
    assert second.id != first.id and bucket_prefix(second) != bucket_prefix(first)
    assert alice.list_objects_type2(name).contents == []
    with pytest.raises(TosServerError) as missing:
        alice.get_object(name, "kept.txt")
    assert (missing.value.status_code, missing.value.code) == (404, "NoSuchKey")
    empty_and_delete(alice, name)


class SlowBody:
    """An upload body that sends ``before`` chunks, then waits for ``release`` before ``after`` more.

    ``before`` is far more than the loopback socket buffers hold, so when ``started`` is set the
    server is reading the body: it has checked the bucket already."""

    def __init__(self, before: int, after: int) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.before, self.after = before, after

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.before):
            yield CHUNK
        self.started.set()
        assert self.release.wait(60)
        for _ in range(self.after):
            yield CHUNK


def test_an_upload_to_a_bucket_deleted_and_made_again_meanwhile_is_not_stored(
    alice: tos.TosClientV2,
) -> None:
    name = bucket_name()
    alice.create_bucket(name)
    body = SlowBody(before=256, after=8)  # 16 MB sent before the pause (the limit is 64 MB)
    outcome: list[BaseException | None] = []

    def upload() -> None:
        try:
            alice.put_object(name, "late.bin", content=body)
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - the outcome under test
            outcome.append(error)

    uploader = threading.Thread(target=upload)
    uploader.start()
    try:
        assert body.started.wait(60)
        # the bucket is empty while the body arrives: deleted and made again under its name
        alice.delete_bucket(name)
        alice.create_bucket(name)
    finally:
        body.release.set()
        uploader.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], TosServerError), outcome
    assert (outcome[0].status_code, outcome[0].code) == (404, "NoSuchBucket")
    assert "deleted while the request ran" in outcome[0].message
    assert alice.list_objects_type2(name).contents == []
    empty_and_delete(alice, name)


def test_migration_0005_gives_existing_buckets_their_name_as_id(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        upgrade(connection, "0004")
        connection.execute(
            text(
                "INSERT INTO tos_buckets (name, account_id, region, created_at) "
                "VALUES ('made-before-ids', 'acc_1', 'cn-beijing', :now)"
            ),
            {"now": datetime.now(UTC)},
        )
    with engine.begin() as connection:
        upgrade(connection)
        rows = connection.execute(text("SELECT name, id FROM tos_buckets")).all()
    assert [tuple(row) for row in rows] == [("made-before-ids", "made-before-ids")]
    engine.dispose()
