"""Signed, expiring URLs for stored files: HMAC-SHA256 over key and expiry with a server secret."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

from restyle.errors import PermissionDenied


class UrlSigner:
    """Makes and checks ``/v1/files/{key}?expires=...&signature=...`` links."""

    def __init__(
        self,
        secret: bytes,
        ttl_seconds: int = 24 * 3600,
        direct_url: Callable[[str, int], str | None] | None = None,
    ) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        self._direct_url = direct_url  # the storage's own links (S3 presigned), when it makes them

    def signature(self, key: str, expires: int) -> str:
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def url(
        self, base_url: str, key: str, *, ttl_seconds: int | None = None, now: float | None = None
    ) -> str:
        """An absolute link to ``key`` valid for ``ttl_seconds`` from ``now``."""
        moment = time.time() if now is None else now
        expires = int(moment + (self.ttl_seconds if ttl_seconds is None else ttl_seconds))
        signature = self.signature(key, expires)
        return f"{base_url.rstrip('/')}/v1/files/{quote(key)}?expires={expires}&signature={signature}"

    def task_url(self, base_url: str, key: str, task_expires_at: datetime) -> str:
        """A link to a task's file that never outlives the task (both kept 24 h by default).

        The storage's direct link when it makes one (S3 presigned GET), else a restyle-signed link
        served by ``GET /v1/files``. Links that ask the API to process the file use :meth:`url`.
        """
        left = int((task_expires_at - datetime.now(UTC)).total_seconds())
        ttl_seconds = max(1, min(self.ttl_seconds, left))
        direct = self._direct_url(key, ttl_seconds) if self._direct_url else None
        return direct or self.url(base_url, key, ttl_seconds=ttl_seconds)

    def verify(self, key: str, expires: int, signature: str, *, now: float | None = None) -> None:
        """Raise PermissionDenied unless ``signature`` is right for ``key`` and not expired."""
        if not hmac.compare_digest(self.signature(key, expires), signature):
            raise PermissionDenied(
                "The file link's signature is not valid; request the task again for a fresh link.",
                code="url.invalid_signature",
            )
        if expires < (time.time() if now is None else now):
            raise PermissionDenied(
                "The file link has expired; request the task again for a fresh link.", code="url.expired"
            )
