"""Volcengine OpenAPI ``HMAC-SHA256`` (Visual service ``cv``, veImageX service ``ImageX``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from restyle.auth.signatures.common import WINDOW, SignedRequest, VerifiedSignature, digests_equal, sha256_hex
from restyle.auth.signatures.replay import ReplayCache
from restyle.auth.signatures.verify import Rules, SecretLookup, verify
from restyle.errors import BodyHashMismatch

ALGORITHM = "HMAC-SHA256"
BODY_HASH_HEADER = "x-content-sha256"


def _payload_hash(request: SignedRequest) -> str:
    """The body's SHA-256 (the SDK signs it even for an empty GET body), checked against the header."""
    if request.body is None:
        raise ValueError("a Volcengine HMAC-SHA256 check needs the request body")
    actual = sha256_hex(request.body)
    declared = request.headers.get(BODY_HASH_HEADER)
    if declared is not None and not digests_equal(actual, declared):
        raise BodyHashMismatch(
            f"Header 'X-Content-Sha256' is '{declared[:80]}' but the body's SHA-256 is {actual}; the body "
            "changed after signing.",
            param="X-Content-Sha256",
        )
    return actual


def _host_values(host: str) -> list[str]:
    # The SDK signs the Host without ':80' / ':443' but may send it with the port; try that form first.
    name, sep, port = host.rpartition(":")
    if sep and port in ("80", "443"):
        return [name, host]
    return [host]


RULES = Rules(
    algorithm=ALGORITHM,
    date_header="x-date",
    token_header="x-security-token",
    payload_hash=_payload_hash,
    host_values=_host_values,
    must_sign=lambda name: name in ("x-date", "x-security-token"),
)


def verify_volc(
    request: SignedRequest,
    *,
    secret_for: SecretLookup,
    service: str,
    now: datetime,
    regions: Collection[str] | None = None,
    window: timedelta = WINDOW,
    replay: ReplayCache | None = None,
) -> VerifiedSignature:
    """Verify a Volcengine ``HMAC-SHA256`` request for ``service`` (``cv`` or ``ImageX``) at time ``now``.

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
