"""``Storage.list_prefix`` on the local storage: every key under a prefix, sorted, nothing else."""

from __future__ import annotations

from pathlib import Path

from restyle.storage.local import LocalStorage


def test_lists_keys_under_the_prefix_only(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    for key in ("tos/b/o/2", "tos/b/o/1", "tos/b/m/x/y", "tos/bb/o/1", "other/1"):
        storage.put(key, b"data")
    (tmp_path / "tos/b/o/.3.abc.tmp").write_bytes(b"half")  # a write in flight
    assert storage.list_prefix("tos/b") == ["tos/b/m/x/y", "tos/b/o/1", "tos/b/o/2"]
    assert storage.list_prefix("tos/b/o/") == ["tos/b/o/1", "tos/b/o/2"]
    assert storage.list_prefix("tos/none") == []
    storage.delete("tos/b/o/1")
    assert storage.list_prefix("tos/b/o") == ["tos/b/o/2"]
