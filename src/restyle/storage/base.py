"""Storage plug-in base: bytes by key, with one set of key rules for every backend."""

from __future__ import annotations

import abc
import re
from typing import TYPE_CHECKING

from restyle.errors import InvalidParameter, UnsupportedFeature
from restyle.registry import Registry

if TYPE_CHECKING:
    from restyle.config import Settings

MAX_KEY_BYTES = 1024
_KEY_CHARS = re.compile(r"^[A-Za-z0-9._\-/]+$")


def validate_key(key: str) -> str:
    """``key`` if it is a safe relative key, else InvalidParameter.

    Keys are ``/``-separated segments of letters, digits, ``.``, ``_`` and ``-``; no segment is
    empty, ``.`` or ``..``, so a key can never leave the storage root.
    """
    if not key or len(key.encode()) > MAX_KEY_BYTES or not _KEY_CHARS.match(key):
        raise InvalidParameter(
            f"Storage key '{key[:100]}' is not valid; use up to {MAX_KEY_BYTES} bytes of letters, digits, "
            "'.', '_', '-' and '/'.",
            param="key",
        )
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise InvalidParameter(
            f"Storage key '{key[:100]}' is not valid; it must be relative, without empty, '.' or '..' parts.",
            param="key",
        )
    return key


class Storage(abc.ABC):
    """Base of storage plug-ins. Keys are validated by :func:`validate_key` before any use."""

    name: str = "storage"

    @abc.abstractmethod
    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store ``data`` under ``key`` atomically (readers see the old bytes or the new, never half)."""

    def put_if_absent(self, key: str, data: bytes, content_type: str | None = None) -> bool:
        """Store ``data`` under ``key`` only if ``key`` holds nothing yet, in one atomic step.

        Returns False (and writes nothing) when ``key`` already holds bytes, so that two writers racing
        for one name cannot both win. A backend without an atomic create raises UnsupportedFeature.
        """
        raise UnsupportedFeature(
            f"The '{self.name}' storage cannot create a key only if it is absent.",
            code="storage.conditional_put_unsupported",
        )

    @abc.abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes under ``key``; NotFound when there are none."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` holds bytes."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""

    @abc.abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Remove every key under ``prefix/``; returns how many were removed."""

    def list_prefix(self, prefix: str) -> list[str]:
        """Every key under ``prefix/``, sorted; a backend that cannot list raises UnsupportedFeature."""
        raise UnsupportedFeature(
            f"The '{self.name}' storage cannot list keys; use the local storage for TOS buckets.",
            code="storage.list_unsupported",
        )

    def healthcheck(self) -> bool:
        return True

    def direct_url(self, key: str, ttl_seconds: int) -> str | None:
        """A link clients can open without the API (e.g. S3 presigned), or None to serve via the API."""
        return None


STORAGES: Registry[Storage] = Registry(
    "storage", {"local": "restyle.storage.local:LocalStorage", "s3": "restyle.storage.s3:S3Storage"}
)


def create_storage(settings: Settings) -> Storage:
    """The storage chosen by ``settings.storage.kind``."""
    if settings.storage.kind == "local":
        return STORAGES.create("local", settings.storage_root)
    return STORAGES.create(settings.storage.kind, **settings.storage.options)
