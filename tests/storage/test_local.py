"""Local storage: atomic writes, keys confined to the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from restyle.config import Settings
from restyle.errors import InvalidParameter, NotFound
from restyle.storage import create_storage, validate_key
from restyle.storage.local import LocalStorage


def test_put_get_exists_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("a/b/c.png", b"one")
    storage.put("a/b/c.png", b"two")
    assert storage.get("a/b/c.png") == b"two" and storage.exists("a/b/c.png")
    assert [p.name for p in (tmp_path / "a/b").iterdir()] == ["c.png"]  # no temp file left
    storage.delete("a/b/c.png")
    storage.delete("a/b/c.png")  # missing is fine
    with pytest.raises(NotFound) as missing:
        storage.get("a/b/c.png")
    assert missing.value.code == "file.not_found"


def test_delete_prefix_removes_a_whole_task(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    for key in ("t/1/input/image", "t/1/output/1-0.png", "t/2/input/image"):
        storage.put(key, b"x")
    assert storage.delete_prefix("t/1") == 2
    assert storage.delete_prefix("t/1") == 0
    assert storage.exists("t/2/input/image") and not (tmp_path / "t/1").exists()


@pytest.mark.parametrize(
    "key", ["", "../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "a/./b", "a\\b", "a b", "é", "x" * 1025]
)
def test_unsafe_keys_are_refused(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "root")
    with pytest.raises(InvalidParameter) as refused:
        storage.put(key, b"x")
    assert refused.value.param == "key" and "is not valid" in refused.value.message
    assert not (tmp_path / "etc").exists()


def test_a_symlink_cannot_lead_out_of_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"s")
    storage = LocalStorage(tmp_path / "root")
    os.symlink(outside, tmp_path / "root" / "link")
    with pytest.raises(NotFound):
        storage.get("link/secret")


def test_valid_keys_and_the_factory(tmp_path: Path) -> None:
    assert validate_key("tasks/acc_1/abc-DEF/output/1-0.png") == "tasks/acc_1/abc-DEF/output/1-0.png"
    storage = create_storage(Settings(data_dir=tmp_path))
    assert isinstance(storage, LocalStorage) and storage.root == (tmp_path / "files").resolve()
    assert storage.healthcheck()
