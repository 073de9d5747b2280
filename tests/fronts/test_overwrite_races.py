""" "Do not overwrite" under concurrency: two writers racing for one name, exactly one wins and the
other gets the vendor's "exists" error (TOS ``FileAlreadyExists`` through the SDK; the TOS object
store and veImageX's store step with racing threads on the real local storage)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import tos
from tos.exceptions import TosServerError

from restyle.api.fronts.imagex.action import _store
from restyle.api.fronts.tos.objects import ObjectStore
from restyle.errors import Conflict
from restyle.storage.buckets import BucketRow
from restyle.storage.imagex_services import object_key
from restyle.storage.local import LocalStorage
from tests.fronts.conftest import LiveServer
from tests.fronts.test_tos import bucket_name, client_for

BODY_BYTES = 6 * 1024 * 1024  # long enough to upload that both writers pass the early check


def race(writers: list[Callable[[], Any]]) -> list[BaseException | Any]:
    """Run ``writers`` at once (released by one barrier); each one's result or exception."""
    barrier = threading.Barrier(len(writers))
    outcomes: list[BaseException | Any] = [None] * len(writers)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = writers[index]()
        except BaseException as error:  # noqa: BLE001 - the outcome under test
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(writers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.fixture(scope="module")
def clients(live_server: LiveServer) -> list[tos.TosClientV2]:
    account = live_server.accounts.create(f"race-{uuid.uuid4().hex[:8]}", qps=100)
    creds = live_server.keys.issue(account)
    return [client_for(live_server, creds.access_key_id, creds.secret_access_key) for _ in range(2)]


def test_tos_put_object_forbid_overwrite_race(clients: list[tos.TosClientV2]) -> None:
    bucket = bucket_name()
    clients[0].create_bucket(bucket)
    try:
        for round_no in range(3):
            key = f"race/{round_no}.bin"
            bodies = [bytes([65 + n]) * BODY_BYTES for n in range(2)]
            outcomes = race(
                [
                    lambda c=client, b=body, k=key: c.put_object(bucket, k, content=b, forbid_overwrite=True)
                    for client, body in zip(clients, bodies, strict=True)
                ]
            )
            lost = [o for o in outcomes if isinstance(o, BaseException)]
            assert len(lost) == 1, outcomes
            assert isinstance(lost[0], TosServerError), lost[0]
            assert (lost[0].status_code, lost[0].code) == (409, "FileAlreadyExists")
            winner = bodies[outcomes.index(next(o for o in outcomes if not isinstance(o, BaseException)))]
            stored = clients[0].get_object(bucket, key).read()
            assert stored == winner  # whole, and the winner's
    finally:
        for listed in clients[0].list_objects_type2(bucket).contents:
            clients[0].delete_object(bucket, listed.key)
        clients[0].delete_bucket(bucket)


def test_object_store_if_absent_race(tmp_path: Path) -> None:
    objects = ObjectStore(LocalStorage(tmp_path))
    bucket = BucketRow(name="bkt", id="b0123")
    for round_no in range(20):
        key = f"racing key {round_no}.png"
        outcomes = race(
            [
                lambda n=n, k=key: objects.put(
                    bucket, k, bytes([n]) * 50_000, "image/png", {}, if_absent=True
                )
                for n in range(4)
            ]
        )
        won = [o for o in outcomes if not isinstance(o, BaseException)]
        lost = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(won) == 1 and all(isinstance(e, Conflict) and e.code == "object.exists" for e in lost)
        meta, data = objects.get(bucket, key)
        assert meta == won[0] and data == bytes([outcomes.index(won[0])]) * 50_000


def test_imagex_store_without_overwrite_race(tmp_path: Path) -> None:
    services: Any = SimpleNamespace(storage=LocalStorage(tmp_path))  # what _store uses of Services
    service: Any = SimpleNamespace(service_id="svc0000001")

    def store(name: str, key: str, image: bytes) -> None:
        asyncio.run(_store(services, service, name, key, image, False))

    for round_no in range(20):
        name = f"out/{round_no}"
        key = object_key(service.service_id, name)
        outcomes = race(
            [lambda n=n, name=name, key=key: store(name, key, bytes([n]) * 50_000) for n in range(4)]
        )
        lost = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(lost) == 3 and all(isinstance(e, Conflict) and e.code == "imagex.exists" for e in lost)
        assert services.storage.get(key) == bytes([outcomes.index(None)]) * 50_000
