"""Signed requests checked against the accounts' access keys (the vendor fronts' authentication).

The verifier gets the secret of any key with the access key id; once the signature holds, a
revoked key or a disabled account is refused with ``auth.invalid``. Checking the state after the
signature means a caller without the secret cannot tell a revoked key from a wrong signature.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from restyle.auth.keys import KeyStore
from restyle.auth.models import AccountRow, KeyRow
from restyle.auth.signatures import (
    WINDOW,
    ReplayCache,
    SignedRequest,
    VerifiedSignature,
    verify_tos,
    verify_volc,
)
from restyle.errors import AuthenticationError

Scheme = Literal["volc", "tos"]


@dataclass(frozen=True)
class SignedCaller:
    """The account a signed request acts for, and what its signature proved (region, token, time)."""

    account: AccountRow
    signature: VerifiedSignature


class _KeyLookup:
    """The verifiers' ``secret_for`` over the key store; keeps the rows it found for the state check."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        self.found: tuple[AccountRow, KeyRow, str] | None = None

    def __call__(self, access_key_id: str) -> str | None:
        self.found = self.keys.signing_key(access_key_id)
        return None if self.found is None else self.found[2]


def verify_with_keys(
    request: SignedRequest,
    *,
    scheme: Scheme,
    service: str,
    keys: KeyStore,
    now: datetime,
    regions: Collection[str] | None = None,
    window: timedelta = WINDOW,
    replay: ReplayCache | None = None,
) -> SignedCaller:
    """Verify ``request`` with ``scheme`` for ``service``; the caller's enabled account, or a RestyleError.

    Blocking (a database read, hashing the body): call it from a worker thread in async code.
    """
    # 1. The signature, with the secret from the key store.
    lookup = _KeyLookup(keys)
    verifier = verify_volc if scheme == "volc" else verify_tos
    signature = verifier(
        request, secret_for=lookup, service=service, now=now, regions=regions, window=window, replay=replay
    )
    # 2. The key's and the account's state: only now, once the caller has proved it holds the secret.
    if lookup.found is None:  # the verifier returned, so the lookup ran and found the key
        raise RuntimeError("the signature verifier returned without looking up the access key")
    account, row, _ = lookup.found
    if row.revoked_at is not None:
        raise AuthenticationError(
            f"The access key '{row.access_key_id}' was revoked; create a new one with 'restyle keys create'."
        )
    if account.disabled:
        raise AuthenticationError("This account is disabled; ask the server's administrator.")
    return SignedCaller(account, signature)
