"""TOS object storage ``TOS4-HMAC-SHA256`` (service ``tos``), for host-style and proxy requests."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime, timedelta

from restyle.auth.signatures.common import WINDOW, SignedRequest, VerifiedSignature, digests_equal, sha256_hex
from restyle.auth.signatures.replay import ReplayCache
from restyle.auth.signatures.verify import Rules, SecretLookup, verify
from restyle.errors import BodyHashMismatch

ALGORITHM = "TOS4-HMAC-SHA256"
PAYLOAD_HEADER = "x-tos-content-sha256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def needs_body(content_sha256: str | None) -> bool:
    """Whether the body must be read to check this ``x-tos-content-sha256`` value (a hex digest)."""
    return content_sha256 is not None and _HEX_DIGEST.fullmatch(content_sha256) is not None


def _payload_hash(request: SignedRequest) -> str:
    """``UNSIGNED-PAYLOAD`` (what the SDK sends), or a hex SHA-256 that the body must match."""
    declared = request.headers.get(PAYLOAD_HEADER)
    if declared is None or declared == UNSIGNED_PAYLOAD:
        return UNSIGNED_PAYLOAD
    if not needs_body(declared):
        raise BodyHashMismatch(
            f"Header 'x-tos-content-sha256' must be '{UNSIGNED_PAYLOAD}' or the body's hex SHA-256, not "
            f"'{declared[:80]}'.",
            param=PAYLOAD_HEADER,
        )
    if request.body is None:
        raise ValueError("this TOS request declares a body hash, so the check needs the body")
    actual = sha256_hex(request.body)
    if not digests_equal(actual, declared):
        raise BodyHashMismatch(
            f"Header 'x-tos-content-sha256' is '{declared}' but the body's SHA-256 is {actual}; the body "
            "changed after signing.",
            param=PAYLOAD_HEADER,
        )
    return declared


RULES = Rules(
    algorithm=ALGORITHM,
    date_header="x-tos-date",
    token_header="x-tos-security-token",
    payload_hash=_payload_hash,
    host_values=lambda host: [host],  # the SDK signs the Host exactly as sent, port kept
    must_sign=lambda name: name.startswith("x-tos-"),
    skip_query=frozenset({"x-tos-signature"}),
)


def verify_tos(
    request: SignedRequest,
    *,
    secret_for: SecretLookup,
    now: datetime,
    service: str = "tos",
    regions: Collection[str] | None = None,
    window: timedelta = WINDOW,
    replay: ReplayCache | None = None,
) -> VerifiedSignature:
    """Verify a ``TOS4-HMAC-SHA256`` request at time ``now``; the target may be absolute-form (proxy).

    ``regions`` None accepts any region (the result records it); a collection accepts only those.
    Raises a ``restyle.errors.SignatureError`` subclass whose ``code`` says what is wrong.
    """
    return verify(
        RULES,
        request,
        secret_for=secret_for,
        service=service,
        now=now,
        regions=regions,
        window=window,
        replay=replay,
    )
