"""The server key: one secret per installation from which every other server secret is derived.

Kept in ``<data_dir>/server.key`` (created on first start, mode 0600) unless ``auth.server_key`` is
set, which several hosts sharing one database must do. Derived keys sign file URLs, encrypt the
secret access keys in the database and sign webhooks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from restyle.errors import ConfigurationError

KEY_FILE = "server.key"


class ServerKey:
    """A 32-byte master secret and the purpose-bound keys derived from it."""

    def __init__(self, master: bytes) -> None:
        if len(master) < 32:
            raise ConfigurationError("The server key must be at least 32 bytes (base64 in auth.server_key).")
        self._master = master

    @classmethod
    def from_base64(cls, text: str) -> ServerKey:
        try:
            return cls(base64.b64decode(text.strip(), validate=True))
        except ValueError as exc:
            raise ConfigurationError("auth.server_key must be base64 of 32 random bytes.") from exc

    @classmethod
    def load_or_create(cls, data_dir: Path, configured: str | None = None) -> ServerKey:
        """The configured key, else the one in ``data_dir/server.key``, created if missing."""
        if configured:
            return cls.from_base64(configured)
        path = data_dir / KEY_FILE
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            tmp = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
            try:
                os.link(tmp, path)  # atomic: the first process to link wins, the others read its key
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return cls.from_base64(path.read_text(encoding="ascii"))

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (``urls``, ``secrets``, ``webhook:<account>``)."""
        return hmac.new(self._master, f"restyle/{purpose}".encode(), hashlib.sha256).digest()

    def fernet(self) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(self.derive("secrets")))

    def webhook_secret(self, account_id: str) -> str:
        """The secret an account's webhook receiver uses to check the ``Restyle-Signature`` header."""
        return "whsec_" + base64.urlsafe_b64encode(self.derive(f"webhook:{account_id}")).decode().rstrip("=")
