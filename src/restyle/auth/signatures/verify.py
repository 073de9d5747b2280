"""The verification procedure both schemes follow, parametrised by a scheme's ``Rules``."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from restyle.auth.signatures.common import (
    DATE_FORMAT,
    WINDOW,
    Authorization,
    SignedRequest,
    VerifiedSignature,
    canonical_path,
    canonical_query,
    check_scope,
    check_window,
    digests_equal,
    parse_authorization,
    parse_signing_time,
    sha256_hex,
    sign,
)
from restyle.auth.signatures.replay import ReplayCache
from restyle.errors import SignatureMismatch, SignedHeaderMissing, UnknownAccessKey, UnsignedHeader

SecretLookup = Callable[[str], str | None]
"""``secret_for(access_key_id)``: the secret access key, or None for a key the server does not know."""


@dataclass(frozen=True)
class Rules:
    """What differs between the two schemes.

    ``payload_hash`` checks the body against any declared hash and returns the canonical request's
    last line; ``host_values`` lists the Host values a client may have signed (first is tried first);
    ``must_sign`` says which sent headers the signature has to cover.
    """

    algorithm: str
    date_header: str
    token_header: str
    payload_hash: Callable[[SignedRequest], str]
    host_values: Callable[[str], list[str]]
    must_sign: Callable[[str], bool]
    skip_query: frozenset[str] = frozenset()


def _check_headers(rules: Rules, request: SignedRequest, auth: Authorization) -> None:
    """Host and the date must be signed; every signed header must be sent; some must be signed."""
    for required in ("host", rules.date_header):
        if required not in auth.signed_headers:
            raise SignedHeaderMissing(
                f"Header '{required}' must be listed in the Authorization's SignedHeaders "
                f"(it lists '{';'.join(auth.signed_headers)}').",
                param=required,
            )
    for name in auth.signed_headers:
        if name not in request.headers:
            raise SignedHeaderMissing(
                f"Header '{name}' is listed in SignedHeaders but was not sent; send it or leave it out "
                "of the signature.",
                param=name,
            )
    for name in request.headers.names():
        if rules.must_sign(name) and name not in auth.signed_headers:
            raise UnsignedHeader(
                f"Header '{name}' was sent but is not covered by the signature; list it in SignedHeaders.",
                param=name,
            )


def _string_to_sign(
    rules: Rules, request: SignedRequest, auth: Authorization, host: str, payload: str, signed_at: datetime
) -> tuple[str, str]:
    """The canonical request and the string to sign (the date line is the header's exact text)."""
    lines = [
        f"{name}:{host if name == 'host' else request.headers.get(name)}\n" for name in auth.signed_headers
    ]
    canonical = "\n".join(
        [
            request.method,
            canonical_path(request.target.path),
            canonical_query(request.target.query, rules.skip_query),
            "".join(lines),
            ";".join(auth.signed_headers),
            payload,
        ]
    )
    stamp = signed_at.strftime(DATE_FORMAT)
    return canonical, "\n".join([rules.algorithm, stamp, auth.scope, sha256_hex(canonical.encode())])


def verify(
    rules: Rules,
    request: SignedRequest,
    *,
    secret_for: SecretLookup,
    service: str,
    now: datetime,
    regions: Collection[str] | None = None,
    window: timedelta = WINDOW,
    replay: ReplayCache | None = None,
) -> VerifiedSignature:
    """Check a signed request; return who signed it, or raise the SignatureError that says why not."""
    # 1. The Authorization header and the headers the signature must cover.
    auth = parse_authorization(request.headers.get("authorization"), rules.algorithm)
    _check_headers(rules, request, auth)
    # 2. The signing time, within the window either way (a replay after the window fails here).
    signed_at = parse_signing_time(request.headers.get(rules.date_header), rules.date_header)
    check_window(signed_at, now, window, rules.date_header)
    # 3. The credential scope: the signing day, this endpoint's service, an accepted region.
    check_scope(auth, day=signed_at.strftime("%Y%m%d"), service=service, regions=regions)
    # 4. The body against its declared hash.
    payload = rules.payload_hash(request)
    # 5. The secret, then the signature, compared in constant time for each Host form the client may sign.
    secret = secret_for(auth.access_key_id)
    if secret is None:
        raise UnknownAccessKey(
            f"The access key id '{auth.access_key_id[:64]}' in the Authorization's Credential is not known "
            "to this server; create keys with 'restyle keys create'.",
            param="Authorization",
        )
    matched = False
    canonical = string_to_sign = ""
    for host in rules.host_values(request.headers.get("host") or ""):
        canonical, string_to_sign = _string_to_sign(rules, request, auth, host, payload, signed_at)
        matched = digests_equal(sign(secret, auth, string_to_sign), auth.signature) or matched
    if not matched:
        raise SignatureMismatch(
            "The request signature does not match the one its secret access key gives; check the secret, "
            "and that nothing changed the method, path, query or signed headers after signing.",
            param="Authorization",
            details={"canonical_request": canonical, "string_to_sign": string_to_sign},
        )
    # 6. Optionally, refuse a second use of the very same signature within its window.
    if replay is not None:
        replay.remember(auth.signature, expires_at=signed_at + window, now=now)
    return VerifiedSignature(
        access_key_id=auth.access_key_id,
        region=auth.region,
        service=auth.service,
        signed_at=signed_at,
        signature=auth.signature,
        security_token=request.headers.get(rules.token_header)
        if rules.token_header in auth.signed_headers
        else None,
    )
