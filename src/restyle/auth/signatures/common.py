"""Pieces both signature schemes share: the parsed request, the Authorization header, the signing
time and its window, the credential scope, the canonical path and query, and the HMAC key chain.

Both Volcengine ``HMAC-SHA256`` and TOS ``TOS4-HMAC-SHA256`` are AWS-SigV4-shaped: a canonical
request is hashed into a string to sign, which is signed with a key derived from the secret by
HMAC over the scope's date, region, service and the word ``request``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit

from restyle.errors import (
    RequestClockSkew,
    RequestDateInvalid,
    RequestExpired,
    SignatureMissing,
    WrongScope,
)

WINDOW = timedelta(minutes=15)
"""How far the signing time may lie from the server's clock, either way (the vendors' value)."""

DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_DATE_SHAPE = re.compile(r"\d{8}T\d{6}Z")
_HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
_HEADER_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")

HeaderPairs = Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]


def _text(value: str | bytes) -> str:
    # HTTP header bytes are latin-1 on the wire; the SDKs sign the same code points as str.
    return value.decode("latin-1") if isinstance(value, bytes) else value


class HeaderView:
    """Request headers in wire order, looked up case-insensitively; repeated names join with ','."""

    def __init__(self, pairs: HeaderPairs) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(_text(name).strip().lower(), []).append(_text(value).strip())

    def get(self, name: str) -> str | None:
        values = self._values.get(name.lower())
        return None if values is None else ",".join(values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def names(self) -> list[str]:
        return list(self._values)


@dataclass(frozen=True)
class Target:
    """A request target split into its parts; ``authority`` is set only for an absolute-form target."""

    path: str
    query: str
    authority: str | None = None

    @classmethod
    def parse(cls, target: str) -> Target:
        """Split ``/path?query`` or an absolute-form ``http://host/path?query`` (proxy requests)."""
        if target[:7].lower() == "http://" or target[:8].lower() == "https://":
            parts = urlsplit(target)
            return cls(parts.path or "/", parts.query, parts.netloc)
        path, _, query = target.partition("?")
        return cls(path or "/", query)


@dataclass(frozen=True)
class SignedRequest:
    """One request as it came over the wire: method, raw target, headers in wire order, body.

    ``body`` is None when the caller did not read it (a TOS request with an unsigned payload does not
    need it; a verifier that does raises ValueError).
    """

    method: str
    target: Target
    headers: HeaderView
    body: bytes | None

    @classmethod
    def from_parts(cls, method: str, target: str, headers: HeaderPairs, body: bytes | None) -> SignedRequest:
        return cls(method.upper(), Target.parse(target), HeaderView(headers), body)


@dataclass(frozen=True)
class Authorization:
    """The parsed ``Authorization`` header of a SigV4-shaped scheme."""

    algorithm: str
    access_key_id: str
    day: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.day}/{self.region}/{self.service}/{self.terminator}"


@dataclass(frozen=True)
class VerifiedSignature:
    """What a verified request proves: who signed it, when, for which region and service."""

    access_key_id: str
    region: str
    service: str
    signed_at: datetime
    signature: str
    security_token: str | None = None


def _malformed(algorithm: str, problem: str) -> SignatureMissing:
    return SignatureMissing(
        f"The Authorization header {problem}; it must read '{algorithm} Credential=<access key id>/"
        "<YYYYMMDD>/<region>/<service>/request, SignedHeaders=<a;b;c>, Signature=<64 hex digits>'.",
        param="Authorization",
    )


def parse_authorization(value: str | None, algorithm: str) -> Authorization:
    """Parse ``<algorithm> Credential=..., SignedHeaders=..., Signature=...`` or raise SignatureMissing."""
    if not value:
        raise _malformed(algorithm, "is missing")
    name, _, rest = value.strip().partition(" ")
    if name != algorithm:
        raise _malformed(algorithm, f"names the scheme '{name[:40]}', not '{algorithm}'")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, field = part.strip().partition("=")
        if sep:
            fields[key.strip()] = field.strip()
    credential = fields.get("Credential", "").rsplit("/", 4)
    signed = tuple(fields.get("SignedHeaders", "").split(";"))
    signature = fields.get("Signature", "")
    if len(credential) != 5 or not all(credential):
        raise _malformed(algorithm, "has no well-formed Credential")
    if not all(_HEADER_NAME.fullmatch(header) for header in signed):
        raise _malformed(algorithm, "has no well-formed SignedHeaders list (lower-case names joined by ';')")
    if not _HEX_SIGNATURE.fullmatch(signature):
        raise _malformed(algorithm, "has no well-formed Signature")
    key, day, region, service, terminator = credential
    return Authorization(algorithm, key, day, region, service, terminator, signed, signature.lower())


def parse_signing_time(value: str | None, header: str) -> datetime:
    """The signing time of a ``YYYYMMDDTHHMMSSZ`` header, or RequestDateInvalid."""
    try:
        if value is None or not _DATE_SHAPE.fullmatch(value):
            raise ValueError(value)
        return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise RequestDateInvalid(
            f"Header '{header}' must be the UTC signing time as YYYYMMDDTHHMMSSZ (for example "
            "20261122T062752Z).",
            param=header,
        ) from None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_window(signed_at: datetime, now: datetime, window: timedelta, header: str) -> None:
    """Refuse a signing time more than ``window`` before (expired) or after (clock skew) ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    minutes = f"{window.total_seconds() / 60:g} minutes"
    if signed_at < now - window:
        raise RequestExpired(
            f"The request was signed at {_stamp(signed_at)} ('{header}'), more than {minutes} before the "
            f"server's time {_stamp(now)}; sign it again (and check the client's clock).",
            param=header,
        )
    if signed_at > now + window:
        raise RequestClockSkew(
            f"The request was signed at {_stamp(signed_at)} ('{header}'), more than {minutes} after the "
            f"server's time {_stamp(now)}; set the client's clock right.",
            param=header,
        )


def check_scope(auth: Authorization, *, day: str, service: str, regions: Collection[str] | None) -> None:
    """Refuse a credential scope for another day, service, region or terminator than expected."""
    problem: str | None = None
    if auth.day != day:
        problem = f"its date {auth.day} is not the signing day {day}"
    elif auth.service != service:
        problem = f"it is for service '{auth.service}' but this endpoint serves '{service}'"
    elif regions is not None and auth.region not in regions:
        problem = f"its region '{auth.region}' is not one of {', '.join(sorted(regions))}"
    elif auth.terminator != "request":
        problem = f"it ends in '{auth.terminator}' instead of 'request'"
    if problem is not None:
        raise WrongScope(
            f"The credential scope '{auth.scope}' does not fit this endpoint: {problem}.",
            param="Authorization",
            details={"scope": auth.scope},
        )


def canonical_path(path: str) -> str:
    """Decode the wire path, then percent-encode all but unreserved characters and '/'."""
    return quote_from_bytes(unquote_to_bytes(path), safe="/~")


def query_pairs(query: str) -> list[tuple[bytes, bytes]]:
    """The decoded (key, value) pairs of a wire query in wire order; '+' is a space, '&&' is skipped."""
    pairs: list[tuple[bytes, bytes]] = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote_to_bytes(key.replace("+", " ")), unquote_to_bytes(value.replace("+", " "))))
    return pairs


def canonical_query(query: str, skip: Collection[str] = ()) -> str:
    """Pairs sorted by key (repeated keys keep wire order), each re-encoded with %20 for a space."""
    kept = [pair for pair in query_pairs(query) if pair[0].decode("latin-1").lower() not in skip]
    kept.sort(key=lambda pair: pair[0])
    return "&".join(
        f"{quote_from_bytes(key, safe='-_.~')}={quote_from_bytes(value, safe='-_.~')}" for key, value in kept
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def sign(secret: str, auth: Authorization, string_to_sign: str) -> str:
    """The hex signature: key chain HMAC(secret, day) -> region -> service -> 'request', then sign."""
    key = secret.encode()
    for part in (auth.day, auth.region, auth.service, auth.terminator):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def digests_equal(expected: str, given: str) -> bool:
    """Constant-time comparison of two hex digests (case-insensitive)."""
    return hmac.compare_digest(expected.lower().encode(), given.lower().encode())
