"""The storage contract: the same behaviour on local disk and on S3 (moto on loopback).

Same keys, same key rules, same errors; a storage plug-in that passes these can replace another.
The ``storage`` fixture (tests/storage/contract_fixtures.py) runs each test on every backend.
"""

from __future__ import annotations

import threading

import pytest

from restyle.errors import InvalidParameter, NotFound
from restyle.storage.base import Storage

UNSAFE_KEYS = [
    "",
    "../etc/passwd",
    "/etc/passwd",
    "a/../../b",
    "a//b",
    "a/./b",
    "a\\b",
    "a b",
    "é",
    "x" * 1025,
]


def test_put_get_overwrite_exists_delete(storage: Storage) -> None:
    assert not storage.exists("tasks/acc/t1/output/1-0.png")
    storage.put("tasks/acc/t1/output/1-0.png", b"one", "image/png")
    storage.put("tasks/acc/t1/output/1-0.png", b"two")
    assert storage.get("tasks/acc/t1/output/1-0.png") == b"two"
    assert storage.exists("tasks/acc/t1/output/1-0.png")
    assert storage.list_prefix("tasks/acc/t1") == ["tasks/acc/t1/output/1-0.png"]  # one object, no temp
    storage.delete("tasks/acc/t1/output/1-0.png")
    storage.delete("tasks/acc/t1/output/1-0.png")  # missing is fine
    assert not storage.exists("tasks/acc/t1/output/1-0.png")
    with pytest.raises(NotFound) as missing:
        storage.get("tasks/acc/t1/output/1-0.png")
    assert missing.value.code == "file.not_found" and missing.value.status == 404


def test_bytes_round_trip_exactly(storage: Storage) -> None:
    payload = bytes(range(256)) * 513 + b"\x00"
    storage.put("bin/all-bytes", payload)
    storage.put("bin/empty", b"")
    assert storage.get("bin/all-bytes") == payload and storage.get("bin/empty") == b""
    assert storage.exists("bin/empty")


def test_a_folder_is_not_a_file(storage: Storage) -> None:
    storage.put("t/1/input/image", b"x")
    assert not storage.exists("t/1") and not storage.exists("t/1/input")
    with pytest.raises(NotFound):
        storage.get("t/1/input")


def test_delete_prefix_removes_one_task_only(storage: Storage) -> None:
    for key in ("t/1/input/image", "t/1/output/1-0.png", "t/10/input/image", "t/2/input/image"):
        storage.put(key, b"x")
    assert storage.delete_prefix("t/1") == 2
    assert storage.delete_prefix("t/1/") == 0
    assert storage.list_prefix("t") == ["t/10/input/image", "t/2/input/image"]


def test_list_prefix_is_sorted_and_bounded_by_segments(storage: Storage) -> None:
    for key in ("tos/b/o/2", "tos/b/o/1", "tos/b/m/x/y", "tos/bb/o/1", "other/1"):
        storage.put(key, b"data")
    assert storage.list_prefix("tos/b") == ["tos/b/m/x/y", "tos/b/o/1", "tos/b/o/2"]
    assert storage.list_prefix("tos/b/o/") == ["tos/b/o/1", "tos/b/o/2"]
    assert storage.list_prefix("tos/none") == []


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused_by_every_operation(storage: Storage, key: str) -> None:
    calls = [
        lambda: storage.put(key, b"x"),
        lambda: storage.put_if_absent(key, b"x"),
        lambda: storage.get(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
    ]
    for call in calls:
        with pytest.raises(InvalidParameter) as refused:
            call()
        assert refused.value.param == "key" and "is not valid" in refused.value.message


def test_put_if_absent_creates_once(storage: Storage) -> None:
    assert storage.put_if_absent("tos/b/o/name", b"first", "text/plain") is True
    assert storage.put_if_absent("tos/b/o/name", b"second") is False
    assert storage.get("tos/b/o/name") == b"first"
    storage.delete("tos/b/o/name")
    assert storage.put_if_absent("tos/b/o/name", b"third") is True and storage.get("tos/b/o/name") == b"third"


def test_put_if_absent_has_one_winner_among_racing_writers(storage: Storage) -> None:
    if storage.name == "s3":
        pytest.skip(
            "moto checks If-None-Match and then writes without a lock, so racing writers can both win on "
            "moto; AWS S3 decides a conditional write atomically (the sequential contract above holds on moto)"
        )
    writers = 8
    start = threading.Barrier(writers)
    wins: list[int] = []

    def write(number: int) -> None:
        start.wait()
        if storage.put_if_absent("race/key", f"writer {number}".encode()):
            wins.append(number)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(wins) == 1, wins
    assert storage.get("race/key") == f"writer {wins[0]}".encode()


def test_healthcheck(storage: Storage) -> None:
    assert storage.healthcheck() is True
