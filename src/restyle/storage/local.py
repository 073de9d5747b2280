"""Local-disk storage: atomic writes (temp file + rename, or + link to create only if absent), keys
confined to the root."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from restyle.errors import NotFound
from restyle.storage.base import Storage, validate_key


class LocalStorage(Storage):
    """Files under ``root``; a key maps to ``root/key``."""

    name = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        # validate_key already forbids '..'; this also catches symlinks that point out of the root
        if not path.is_relative_to(self.root):
            raise NotFound(f"File '{key}' does not exist.", code="file.not_found")
        return path

    @staticmethod
    def _temp_copy(path: Path, data: bytes) -> Path:
        """``data`` in a new hidden file beside ``path``, to be moved or linked into place whole."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        tmp = self._temp_copy(path := self._path(key), data)
        try:
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def put_if_absent(self, key: str, data: bytes, content_type: str | None = None) -> bool:
        tmp = self._temp_copy(path := self._path(key), data)
        try:
            # link() creates the name only if nothing holds it (atomic, EEXIST otherwise), and the
            # complete file appears at once; rename() would replace a file another writer made.
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"File '{key}' does not exist.", code="file.not_found") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        path = self._path(prefix.rstrip("/"))
        if not path.is_dir():
            return 0
        count = sum(1 for p in path.rglob("*") if p.is_file())
        shutil.rmtree(path, ignore_errors=True)
        return count

    def list_prefix(self, prefix: str) -> list[str]:
        path = self._path(prefix.rstrip("/"))
        if not path.is_dir():
            return []
        # temp files of writes in flight (".name.<uuid>.tmp") are not keys yet
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in path.rglob("*")
            if p.is_file() and not (p.name.startswith(".") and p.name.endswith(".tmp"))
        )

    def healthcheck(self) -> bool:
        return self.root.is_dir() and os.access(self.root, os.W_OK)
