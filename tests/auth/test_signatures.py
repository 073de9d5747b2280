"""The HMAC-SHA256 and TOS4-HMAC-SHA256 verifiers: every shared vector, then requests signed by the
vendors' own SDK signers (volcengine's SignerV4, tos's Auth) to probe time windows, scopes, keys,
headers, query encodings and hosts; last, the check against real accounts and keys."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from restyle.auth.accounts import AccountStore
from restyle.auth.keys import KeyStore
from restyle.auth.signatures import ReplayCache, SignedRequest, VerifiedSignature, verify_tos, verify_volc
from restyle.auth.signed import verify_with_keys
from restyle.errors import AuthenticationError, SignatureError

VECTORS = Path(__file__).with_name("vectors")  # a copy of shared/protocols/vectors (signed by the SDKs)
AK = "AKLTexampleAccessKey"
SECRET = "exampleSecret/Key+=="
TAMPER_CODES = {
    "body changed after signing": "auth.body_hash",
    "wrong secret key": "auth.signature_mismatch",
    "query parameter added after signing": "auth.signature_mismatch",
}
Headers = list[tuple[str, str]]


def _vectors(name: str) -> list[dict[str, Any]]:
    path = VECTORS / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


VOLC_VECTORS = _vectors("volc_hmac_sha256.jsonl")
TOS_VECTORS = _vectors("tos4_hmac_sha256.jsonl")


def _request(vector: dict[str, Any]) -> SignedRequest:
    headers = [(name, value) for name, value in vector["headers"]]
    return SignedRequest.from_parts(
        vector["method"], vector["target"], headers, base64.b64decode(vector["body_b64"])
    )


def _signed_at(request: SignedRequest) -> datetime:
    stamp = request.headers.get("x-date") or request.headers.get("x-tos-date")
    assert stamp is not None
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _secrets(secret: str | None = SECRET) -> Any:
    return lambda access_key_id: secret if access_key_id == AK else None


def _code(check: Any) -> str:
    with pytest.raises(SignatureError) as refused:
        check()
    assert refused.value.message.endswith(".") and refused.value.status in (400, 401, 403)
    return refused.value.code


def test_the_vector_files_are_there() -> None:
    assert len(VOLC_VECTORS) >= 24 and len(TOS_VECTORS) >= 24
    assert {v["valid"] for v in VOLC_VECTORS + TOS_VECTORS} == {True, False}


@pytest.mark.parametrize(
    "vector", VOLC_VECTORS, ids=lambda v: f"{v['target'][10:30]}-{v.get('tamper', 'valid')}"
)
def test_volc_vectors(vector: dict[str, Any]) -> None:
    request = _request(vector)
    now = _signed_at(request) + timedelta(minutes=1)

    def check() -> VerifiedSignature:
        return verify_volc(request, secret_for=_secrets(vector["secret_key"]), service="cv", now=now)

    if vector["valid"]:
        verified = check()
        assert (verified.access_key_id, verified.region, verified.service) == (AK, "cn-north-1", "cv")
        assert verified.security_token == request.headers.get("x-security-token")
    else:
        assert _code(check) == TAMPER_CODES[vector["tamper"]]


@pytest.mark.parametrize(
    "vector", TOS_VECTORS, ids=lambda v: f"{v['method']}{v['target'][:30]}-{v.get('tamper', 'valid')}"
)
def test_tos_vectors(vector: dict[str, Any]) -> None:
    request = _request(vector)
    now = _signed_at(request) - timedelta(minutes=1)

    def check() -> VerifiedSignature:
        return verify_tos(request, secret_for=_secrets(vector["secret_key"]), now=now)

    if vector["valid"]:
        verified = check()
        assert (verified.access_key_id, verified.region, verified.service) == (AK, "cn-beijing", "tos")
    else:
        assert _code(check) == TAMPER_CODES[vector["tamper"]]


# --- time window, replay, scope, keys, headers on the first valid vector of each scheme ------------


def _first_valid(vectors: list[dict[str, Any]]) -> SignedRequest:
    return _request(next(v for v in vectors if v["valid"]))


def test_the_window_is_fifteen_minutes_either_way() -> None:
    request = _first_valid(VOLC_VECTORS)
    signed_at = _signed_at(request)
    for offset in (timedelta(minutes=15), -timedelta(minutes=15), timedelta(0)):
        verify_volc(request, secret_for=_secrets(), service="cv", now=signed_at + offset)
    late = signed_at + timedelta(minutes=15, seconds=1)
    early = signed_at - timedelta(minutes=15, seconds=1)
    assert (
        _code(lambda: verify_volc(request, secret_for=_secrets(), service="cv", now=late)) == "auth.expired"
    )
    assert (
        _code(lambda: verify_volc(request, secret_for=_secrets(), service="cv", now=early))
        == "auth.clock_skew"
    )
    tos = _first_valid(TOS_VECTORS)
    assert _code(
        lambda: verify_tos(tos, secret_for=_secrets(), now=_signed_at(tos) + timedelta(hours=1))
    ) == ("auth.expired")
    narrow = timedelta(minutes=1)
    assert (
        _code(
            lambda: verify_volc(
                request, secret_for=_secrets(), service="cv", now=signed_at + 2 * narrow, window=narrow
            )
        )
        == "auth.expired"
    )


def test_now_must_carry_a_timezone() -> None:
    request = _first_valid(VOLC_VECTORS)
    with pytest.raises(ValueError, match="timezone"):
        verify_volc(
            request, secret_for=_secrets(), service="cv", now=_signed_at(request).replace(tzinfo=None)
        )


def test_a_replay_after_the_window_is_refused() -> None:
    request = _first_valid(VOLC_VECTORS)
    signed_at = _signed_at(request)
    verify_volc(request, secret_for=_secrets(), service="cv", now=signed_at + timedelta(seconds=5))
    replayed = signed_at + timedelta(minutes=20)
    assert (
        _code(lambda: verify_volc(request, secret_for=_secrets(), service="cv", now=replayed))
        == "auth.expired"
    )


def test_the_replay_guard_refuses_a_second_use_within_the_window_and_forgets_after() -> None:
    guard = ReplayCache(max_entries=2)
    request = _first_valid(VOLC_VECTORS)
    signed_at = _signed_at(request)
    verify_volc(request, secret_for=_secrets(), service="cv", now=signed_at, replay=guard)
    again = signed_at + timedelta(minutes=1)
    assert _code(
        lambda: verify_volc(request, secret_for=_secrets(), service="cv", now=again, replay=guard)
    ) == ("auth.replayed")
    others = [_request(v) for v in VOLC_VECTORS if v["valid"]][1:4]
    for other in others:  # three more signatures: the bound of two pushes the first one out
        verify_volc(other, secret_for=_secrets(), service="cv", now=signed_at, replay=guard)
    assert len(guard) == 2
    guard.remember("f" * 64, expires_at=signed_at + timedelta(hours=2), now=signed_at + timedelta(hours=1))
    assert len(guard) == 1  # the entries of the old window expired


def test_a_wrong_service_or_region_scope_is_refused() -> None:
    request = _first_valid(VOLC_VECTORS)
    now = _signed_at(request)
    assert (
        _code(lambda: verify_volc(request, secret_for=_secrets(), service="ImageX", now=now))
        == "auth.wrong_scope"
    )
    assert (
        _code(
            lambda: verify_volc(request, secret_for=_secrets(), service="cv", now=now, regions=["cn-beijing"])
        )
        == "auth.wrong_scope"
    )
    assert verify_volc(
        request, secret_for=_secrets(), service="cv", now=now, regions=["cn-north-1"]
    ).region == ("cn-north-1")
    tos = _first_valid(TOS_VECTORS)
    assert _code(lambda: verify_tos(tos, secret_for=_secrets(), now=_signed_at(tos), service="cv")) == (
        "auth.wrong_scope"
    )


def test_an_unknown_access_key_is_refused() -> None:
    for request in (_first_valid(VOLC_VECTORS), _first_valid(TOS_VECTORS)):
        now = _signed_at(request)
        service = "cv" if "x-date" in request.headers else "tos"
        verifier = verify_volc if service == "cv" else verify_tos
        assert _code(lambda: verifier(request, secret_for=_secrets(None), service=service, now=now)) == (  # noqa: B023
            "auth.unknown_key"
        )


def _edited(
    request: SignedRequest, drop: str = "", add: Headers | None = None, replace: dict[str, str] | None = None
) -> SignedRequest:
    """The request with a header dropped, added or replaced (names come back lower-cased)."""
    pairs: Headers = []
    for name in request.headers.names():
        value = request.headers.get(name) or ""
        if name == drop:
            continue
        pairs.append((name, (replace or {}).get(name, value)))
    target = request.target.path + (f"?{request.target.query}" if request.target.query else "")
    return SignedRequest.from_parts(request.method, target, pairs + (add or []), request.body)


def test_missing_and_malformed_headers_have_their_own_codes() -> None:
    request = _first_valid(VOLC_VECTORS)
    now = _signed_at(request)
    auth = request.headers.get("authorization") or ""

    def code(edited: SignedRequest) -> str:
        return _code(lambda: verify_volc(edited, secret_for=_secrets(), service="cv", now=now))

    assert code(_edited(request, drop="authorization")) == "auth.signature_missing"
    for broken in ("Bearer abc", auth.replace("Signature=", "Sig="), auth.replace("/request", ""), auth[:-2]):
        assert code(_edited(request, replace={"authorization": broken})) == "auth.signature_missing"
    assert code(_edited(request, drop="x-date")) == "auth.signed_header_missing"
    assert code(_edited(request, replace={"authorization": auth.replace(";host;", ";")})) == (
        "auth.signed_header_missing"
    )
    assert code(_edited(request, replace={"authorization": auth.replace("x-date,", "x-date;x-extra,")})) == (
        "auth.signed_header_missing"
    )
    assert code(_edited(request, replace={"x-date": "2026-11-22T06:27:52Z"})) == "auth.date_invalid"
    assert code(_edited(request, add=[("X-Security-Token", "STS2unsigned")])) == "auth.unsigned_header"
    tos = _first_valid(TOS_VECTORS)
    assert (
        _code(
            lambda: verify_tos(
                _edited(tos, add=[("x-tos-acl", "public-read")]), secret_for=_secrets(), now=_signed_at(tos)
            )
        )
        == "auth.unsigned_header"
    )


# --- requests signed by the vendors' SDK signers --------------------------------------------------


def _volc_sign(
    query: dict[str, Any], host: str, *, body: bytes = b"{}", token: str = "", service: str = "cv"
) -> Headers:
    signer = pytest.importorskip("volcengine.auth.SignerV4").SignerV4
    from volcengine.base.Request import Request
    from volcengine.Credentials import Credentials

    sdk_request = Request()
    sdk_request.set_method("POST")
    sdk_request.set_path("/")
    sdk_request.set_query(query)
    sdk_request.set_headers({"Host": host, "Content-Type": "application/json"})
    sdk_request.set_body(body)
    signer.sign(sdk_request, Credentials(AK, SECRET, service, "cn-north-1", token))
    return [(name, str(value)) for name, value in sdk_request.headers.items()]


def _volc_check(target: str, headers: Headers, body: bytes = b"{}", host: str | None = None) -> str:
    """'ok', or the refusal's code, for a volc request signed a moment ago."""
    if host is not None:
        headers = [(n, host if n.lower() == "host" else v) for n, v in headers]
    request = SignedRequest.from_parts("POST", target, headers, body)
    try:
        verify_volc(request, secret_for=_secrets(), service="cv", now=datetime.now(UTC))
    except SignatureError as refused:
        return refused.code
    return "ok"


def test_plus_and_percent_twenty_are_both_a_space_in_the_query() -> None:
    query = {"Action": "CVProcess", "Version": "2022-08-31", "Note": "a b+c~d/é"}
    headers = _volc_sign(query, "127.0.0.1:9000")
    as_sdk = urlencode(query)  # what requests sends: '+' for a space, %2B for a plus
    assert "Note=a+b%2Bc" in as_sdk
    assert _volc_check(f"/?{as_sdk}", headers) == "ok"
    assert _volc_check(f"/?{as_sdk.replace('+', '%20')}", headers) == "ok"
    assert (
        _volc_check(f"/?{quote('Action')}=CVProcess&Version=2022-08-31&Note=a%20b%2Bc~d%2F%C3%A9", headers)
        == "ok"
    )
    assert _volc_check(f"/?{as_sdk.replace('%2B', '+')}", headers) == "auth.signature_mismatch"


def test_repeated_query_keys_keep_their_wire_order() -> None:
    query = {"Action": "CVProcess", "Version": "2022-08-31", "Tag": ["b", "a"]}
    headers = _volc_sign(query, "127.0.0.1:9000")
    assert _volc_check("/?Action=CVProcess&Tag=b&Version=2022-08-31&Tag=a", headers) == "ok"
    assert _volc_check("/?Tag=b&Tag=a&Version=2022-08-31&Action=CVProcess", headers) == "ok"
    assert (
        _volc_check("/?Action=CVProcess&Version=2022-08-31&Tag=a&Tag=b", headers) == "auth.signature_mismatch"
    )


def test_host_with_and_without_a_port() -> None:
    target = "/?Action=CVProcess&Version=2022-08-31"
    query = {"Action": "CVProcess", "Version": "2022-08-31"}
    with_port = _volc_sign(query, "127.0.0.1:9000")
    assert _volc_check(target, with_port) == "ok"
    assert _volc_check(target, with_port, host="127.0.0.1") == "auth.signature_mismatch"
    assert _volc_check(target, with_port, host="127.0.0.1:9001") == "auth.signature_mismatch"
    default_port = _volc_sign(query, "visual.example.com:443")  # the SDK signs it without ':443'
    assert _volc_check(target, default_port) == "ok"
    assert _volc_check(target, default_port, host="visual.example.com") == "ok"
    plain = _volc_sign(query, "visual.example.com")
    assert (
        _volc_check(target, plain) == "ok"
        and _volc_check(target, plain, host="visual.example.com:80") == "ok"
    )


def test_a_security_token_is_returned_when_signed() -> None:
    headers = _volc_sign({"Action": "CVProcess", "Version": "2022-08-31"}, "h:1", token="STS2token")
    request = SignedRequest.from_parts("POST", "/?Action=CVProcess&Version=2022-08-31", headers, b"{}")
    verified = verify_volc(request, secret_for=_secrets(), service="cv", now=datetime.now(UTC))
    assert verified.security_token == "STS2token"
    imagex = _volc_sign(
        {"Action": "GetCVImageGenerateResult", "Version": "2023-05-01"}, "h:1", service="ImageX"
    )
    request = SignedRequest.from_parts(
        "POST", "/?Action=GetCVImageGenerateResult&Version=2023-05-01", imagex, b"{}"
    )
    assert (
        verify_volc(request, secret_for=_secrets(), service="ImageX", now=datetime.now(UTC)).security_token
        is None
    )


def _tos_sign(
    path: str,
    params: dict[str, str],
    host: str,
    *,
    at: datetime,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> Headers:
    auth_module = pytest.importorskip("tos.auth")
    from tos.http import Request
    from tos.models2 import GenericInput

    sdk_request = Request(
        "GET",
        f"http://{host}{path}",
        path,
        host,
        data=body,
        params=params,
        headers=dict(headers or {}),
        generic_input=GenericInput(request_date=at),
    )
    auth_module.Auth(AK, SECRET, "cn-beijing", sts=token).sign_request(sdk_request)
    return [(name, str(value)) for name, value in sdk_request.headers.items()]


def test_tos_absolute_form_target_token_and_declared_body_hash() -> None:
    at = datetime(2026, 11, 22, 6, 28, 7, tzinfo=UTC)
    host = "mybucket.tos-cn-beijing.volces.com"
    headers = _tos_sign("/a b/中.png", {"x-tos-process": "image/resize,w_100"}, host, at=at, token="STS2tos")
    path = quote("/a b/中.png", safe="/~")
    query = "x-tos-process=image%2Fresize%2Cw_100"
    for target in (f"http://{host}{path}?{query}", f"{path}?{query}", f"HTTP://{host}{path}?{query}"):
        request = SignedRequest.from_parts("GET", target, headers, None)
        verified = verify_tos(request, secret_for=_secrets(), now=at)
        assert verified.security_token == "STS2tos" and request.target.path == path
    moved = SignedRequest.from_parts("GET", f"http://{host}/other.png?{query}", headers, None)
    assert _code(lambda: verify_tos(moved, secret_for=_secrets(), now=at)) == "auth.signature_mismatch"

    body = b'{"Prompt": "x"}'
    digest = __import__("hashlib").sha256(body).hexdigest()
    hashed = _tos_sign("/", {}, host, at=at, headers={"x-tos-content-sha256": digest}, body=body)
    assert verify_tos(SignedRequest.from_parts("GET", "/", hashed, body), secret_for=_secrets(), now=at)
    changed = SignedRequest.from_parts("GET", "/", hashed, body + b" ")
    assert _code(lambda: verify_tos(changed, secret_for=_secrets(), now=at)) == "auth.body_hash"
    with pytest.raises(ValueError, match="body"):
        verify_tos(SignedRequest.from_parts("GET", "/", hashed, None), secret_for=_secrets(), now=at)
    odd = _tos_sign("/", {}, host, at=at, headers={"x-tos-content-sha256": "STREAMING"})
    assert _code(
        lambda: verify_tos(SignedRequest.from_parts("GET", "/", odd, b""), secret_for=_secrets(), now=at)
    ) == ("auth.body_hash")


def test_tos_host_port_is_signed_as_sent_and_signature_query_is_skipped() -> None:
    at = datetime.now(UTC)
    headers = _tos_sign("/k", {"versionId": "", "x-tos-signature": "zz"}, "127.0.0.1:9000", at=at)
    ok = SignedRequest.from_parts("GET", "/k?versionId&x-tos-signature=other", headers, None)
    assert verify_tos(ok, secret_for=_secrets(), now=at).region == "cn-beijing"
    portless = [(n, "127.0.0.1" if n.lower() == "host" else v) for n, v in headers]
    request = SignedRequest.from_parts("GET", "/k?versionId", portless, None)
    assert _code(lambda: verify_tos(request, secret_for=_secrets(), now=at)) == "auth.signature_mismatch"


# --- against real accounts and keys (SQLite, and PostgreSQL when reachable) -----------------------


def _signed_by(access_key_id: str, secret: str) -> tuple[SignedRequest, datetime]:
    at = datetime.now(UTC)
    auth_module = pytest.importorskip("tos.auth")
    from tos.http import Request
    from tos.models2 import GenericInput

    sdk_request = Request(
        "HEAD", "http://b.h/", "/", "b.h", params={}, headers={}, generic_input=GenericInput(at)
    )
    auth_module.Auth(access_key_id, secret, "cn-beijing").sign_request(sdk_request)
    headers = [(name, str(value)) for name, value in sdk_request.headers.items()]
    return SignedRequest.from_parts("HEAD", "/", headers, None), at


def test_keys_from_the_key_store(accounts: AccountStore, keys: KeyStore) -> None:
    account = accounts.create("signer")
    credentials = keys.issue(account)
    request, at = _signed_by(credentials.access_key_id, credentials.secret_access_key)
    caller = verify_with_keys(request, scheme="tos", service="tos", keys=keys, now=at)
    assert caller.account.id == account.id and caller.signature.access_key_id == credentials.access_key_id
    forged, _ = _signed_by(credentials.access_key_id, credentials.secret_access_key + "x")
    stranger, _ = _signed_by("AKRSNOSUCHKEY", "whatever")

    def code(candidate: SignedRequest) -> str:
        with pytest.raises(AuthenticationError) as refused:
            verify_with_keys(candidate, scheme="tos", service="tos", keys=keys, now=at)
        return refused.value.code

    assert (code(forged), code(stranger)) == ("auth.signature_mismatch", "auth.unknown_key")
    accounts.update(account.id, disabled=True)
    assert code(request) == "auth.invalid"
    accounts.update(account.id, disabled=False)
    keys.revoke(credentials.access_key_id)
    assert (code(request), code(forged)) == ("auth.invalid", "auth.signature_mismatch")
