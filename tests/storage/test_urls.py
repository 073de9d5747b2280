"""Signed, expiring file links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from restyle.errors import PermissionDenied
from restyle.storage.urls import UrlSigner


def _parts(url: str) -> tuple[str, int, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return split.path.removeprefix("/v1/files/"), int(query["expires"][0]), query["signature"][0]


def test_a_link_verifies_until_it_expires() -> None:
    signer = UrlSigner(b"s" * 32, ttl_seconds=3600)
    url = signer.url("http://127.0.0.1:8000/", "tasks/a/b/output/1-0.png", now=1000.0)
    assert url.startswith("http://127.0.0.1:8000/v1/files/tasks/a/b/output/1-0.png?expires=4600&signature=")
    key, expires, signature = _parts(url)
    signer.verify(key, expires, signature, now=4600)
    with pytest.raises(PermissionDenied) as expired:
        signer.verify(key, expires, signature, now=4601)
    assert expired.value.code == "url.expired" and expired.value.status == 403


@pytest.mark.parametrize("tamper", ["key", "expires", "signature", "secret"])
def test_tampered_links_are_refused(tamper: str) -> None:
    signer = UrlSigner(b"s" * 32)
    key, expires, signature = _parts(signer.url("http://h", "tasks/a/b/x.png", now=0))
    if tamper == "key":
        key = "tasks/a/c/x.png"
    elif tamper == "expires":
        expires += 1
    elif tamper == "signature":
        signature = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    else:
        signer = UrlSigner(b"t" * 32)
    with pytest.raises(PermissionDenied) as refused:
        signer.verify(key, expires, signature, now=0)
    assert refused.value.code == "url.invalid_signature"


def test_a_task_link_never_outlives_its_task() -> None:
    signer = UrlSigner(b"k" * 32, ttl_seconds=24 * 3600)
    soon = datetime.now(UTC) + timedelta(minutes=10)
    url = signer.task_url("http://h", "tasks/a/t/output/1-0.png", soon)
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    assert abs(expires - soon.timestamp()) < 5
    later = datetime.now(UTC) + timedelta(days=3)
    expires = int(parse_qs(urlsplit(signer.task_url("http://h", "k", later)).query)["expires"][0])
    assert abs(expires - (datetime.now(UTC).timestamp() + 24 * 3600)) < 5
