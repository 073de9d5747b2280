"""Credentials: a Bearer API key (stored hashed) and an access key pair (secret stored encrypted)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import or_, select

from restyle.auth.accounts import changed, generation, iso
from restyle.auth.models import AccountRow, KeyRow
from restyle.auth.serverkey import ServerKey
from restyle.errors import AuthenticationError, NotFound
from restyle.tasks.db import Database, utcnow

API_KEY_PREFIX = "rsk_"
ACCESS_KEY_PREFIX = "AKRS"
KEY_CACHE_SECONDS = 5.0  # how long a checked API key is trusted without reading the database again


@dataclass(frozen=True)
class Credentials:
    """What a caller receives once, when a key is created; only hashes and ciphertext are kept."""

    key_id: str
    account_id: str
    account_name: str
    api_key: str
    access_key_id: str
    secret_access_key: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def key_to_dict(row: KeyRow) -> dict[str, Any]:
    """The public JSON form of a key (no secret)."""
    return {
        "id": row.id,
        "account_id": row.account_id,
        "access_key_id": row.access_key_id,
        "created_at": iso(row.created_at),
        "revoked_at": iso(row.revoked_at) if row.revoked_at else None,
    }


def _hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _invalid_key() -> AuthenticationError:
    return AuthenticationError("The API key is not valid; send 'Authorization: Bearer <api key>'.")


class VerifiedKeys:
    """API keys found valid in the last ``ttl`` seconds, by their SHA-256, with their account.

    A hit spares the database read on every request. A key revoked (or an account disabled or
    deleted) by another process is refused within ``ttl`` seconds; a change made through this
    process drops every entry at once (:func:`restyle.auth.accounts.changed`). Refusals are never
    kept, so a new key works at once.
    """

    def __init__(self, ttl: float, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.size, self.clock = ttl, size, clock
        self._entries: dict[str, tuple[AccountRow, float, int]] = {}

    def get(self, digest: str) -> AccountRow | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        account, until, seen = entry
        if seen != generation() or self.clock() >= until:
            self._entries.pop(digest, None)
            return None
        return account

    def put(self, digest: str, account: AccountRow, seen: int) -> None:
        """Keep a check made from a read that started at change count ``seen``."""
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.size:  # a flood of distinct keys: start over rather than grow
            self._entries.clear()
        self._entries[digest] = (account, self.clock() + self.ttl, seen)


class KeyStore:
    """Issue, check, list and revoke keys."""

    def __init__(self, db: Database, server_key: ServerKey, verified: VerifiedKeys | None = None) -> None:
        self.db = db
        self._fernet = server_key.fernet()
        self._verified = verified or VerifiedKeys(KEY_CACHE_SECONDS)

    def issue(self, account: AccountRow) -> Credentials:
        key_id = secrets.token_hex(8)
        api_key = f"{API_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        access_key_id = ACCESS_KEY_PREFIX + base64.b32encode(secrets.token_bytes(10)).decode()
        secret_access_key = secrets.token_urlsafe(30)
        row = KeyRow(
            id=key_id,
            account_id=account.id,
            api_key_hash=_hash(api_key),
            access_key_id=access_key_id,
            secret_encrypted=self._fernet.encrypt(secret_access_key.encode()).decode(),
            created_at=utcnow(),
        )
        with self.db.write() as session:
            session.add(row)
        return Credentials(key_id, account.id, account.name, api_key, access_key_id, secret_access_key)

    def cached(self, api_key: str) -> AccountRow | None:
        """The account of a key checked in the last few seconds (no database read), else None."""
        return self._verified.get(_hash(api_key))

    def authenticate(self, api_key: str) -> AccountRow:
        """The account of a valid, unrevoked API key of an enabled account; else AuthenticationError.

        Valid keys are kept for a few seconds (see :class:`VerifiedKeys`)."""
        if not api_key.startswith(API_KEY_PREFIX):
            raise _invalid_key()
        digest = _hash(api_key)
        if (account := self._verified.get(digest)) is not None:
            return account
        seen = generation()
        key_id = api_key[len(API_KEY_PREFIX) :].split("_", 1)[0]
        with self.db.read() as session:
            found = session.execute(
                select(KeyRow, AccountRow).join(AccountRow).where(KeyRow.id == key_id)
            ).first()
        if found is None:
            raise _invalid_key()
        row, account = found
        if not hmac.compare_digest(row.api_key_hash, digest) or row.revoked_at is not None:
            raise _invalid_key()
        if account.disabled:
            raise AuthenticationError("This account is disabled; ask the server's administrator.")
        self._verified.put(digest, account, seen)
        return account

    def access_secret(self, access_key_id: str) -> tuple[AccountRow, str]:
        """(account, secret access key) for signature checks of the vendor protocols."""
        with self.db.read() as session:
            found = session.execute(
                select(KeyRow, AccountRow).join(AccountRow).where(KeyRow.access_key_id == access_key_id)
            ).first()
        if found is None or found[0].revoked_at is not None or found[1].disabled:
            raise AuthenticationError(
                f"The access key '{access_key_id}' is not valid.", code="auth.access_key"
            )
        try:
            secret = self._fernet.decrypt(found[0].secret_encrypted.encode()).decode()
        except InvalidToken:
            raise AuthenticationError(
                f"The access key '{access_key_id}' cannot be used: the server key changed since it was made.",
                code="auth.access_key",
            ) from None
        return found[1], secret

    def signing_key(self, access_key_id: str) -> tuple[AccountRow, KeyRow, str] | None:
        """(account, key row, secret access key) of any key with this access key id, revoked or not,
        or None if there is none: the signed-request check refuses revoked keys and disabled accounts
        itself (``restyle.auth.signed``), after the signature, so a stranger learns no key's state."""
        with self.db.read() as session:
            found = session.execute(
                select(KeyRow, AccountRow).join(AccountRow).where(KeyRow.access_key_id == access_key_id)
            ).first()
        if found is None:
            return None
        try:
            secret = self._fernet.decrypt(found[0].secret_encrypted.encode()).decode()
        except InvalidToken:
            raise AuthenticationError(
                f"The access key '{access_key_id}' cannot be used: the server key changed since it was made."
            ) from None
        return found[1], found[0], secret

    def list_keys(self, account_id: str | None = None) -> list[KeyRow]:
        query = select(KeyRow).order_by(KeyRow.created_at, KeyRow.id)
        if account_id is not None:
            query = query.where(KeyRow.account_id == account_id)
        with self.db.read() as session:
            return list(session.scalars(query))

    def revoke(self, key: str, account_id: str | None = None) -> KeyRow:
        """Revoke a key by its id or access key id (within ``account_id`` when given)."""
        with self.db.write() as session:
            query = select(KeyRow).where(or_(KeyRow.id == key, KeyRow.access_key_id == key))
            if account_id is not None:
                query = query.where(KeyRow.account_id == account_id)
            row = session.scalars(query).first()
            if row is None:
                raise NotFound(f"Key '{key}' does not exist.", code="key.not_found")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
        changed()
        return row
