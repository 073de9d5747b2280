"""Fetch an input image from an http(s) URL safely: every hop checked by the address guard.

The request goes to an address the guard checked (the name rides in ``Host`` and the TLS server
name), redirects are followed by hand and re-checked (at most three), the body is streamed up to
the image byte limit within a connect and a total timeout, and the bytes must start like an image.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from restyle.config import ImageLimits
from restyle.errors import UrlError, UrlFetchFailed, UrlNotImage, UrlTimeout, UrlTooLarge
from restyle.imaging.sniff import SNIFF_BYTES, sniff_image
from restyle.imaging.urlguard import Resolver, Target, UrlGuard

REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "restyle-fetch/1"


@dataclass(frozen=True)
class FetchLimits:
    """How much a fetch may read and how long it may take."""

    max_bytes: int
    connect_timeout: float = 5.0
    total_timeout: float = 20.0
    max_redirects: int = 3

    @classmethod
    def from_settings(cls, images: ImageLimits) -> FetchLimits:
        return cls(images.max_bytes, images.fetch_connect_timeout_seconds, images.fetch_timeout_seconds)


def guard_from_settings(images: ImageLimits, resolver: Resolver | None = None) -> UrlGuard:
    """The address guard with the operator's allow-list (``images.fetch_allow``)."""
    return UrlGuard(images.fetch_allow, resolver, resolve_timeout=images.fetch_connect_timeout_seconds)


def fetch_image(
    url: str,
    *,
    guard: UrlGuard,
    limits: FetchLimits,
    param: str = "image",
    verify: ssl.SSLContext | bool = True,
) -> bytes:
    """The image bytes at ``url``; a :class:`UrlError` subclass naming ``param`` when it cannot be had.

    ``verify`` is httpx's TLS verification (the system's CAs; a context of one's own CA in tests).

    Steps: 1. check the URL (syntax, resolution, address classes); 2. GET it from a checked address,
    redirects not followed; 3. a redirect: check its target and go to 2 (at most ``max_redirects``);
    4. an error status fails; 5. stream the body up to the byte cap, sniffing its first bytes.
    """
    deadline = time.monotonic() + limits.total_timeout
    # no proxies from the environment: the request must go to the address the guard checked
    tls = _system_tls() if verify is True else verify
    with httpx.Client(trust_env=False, follow_redirects=False, verify=tls) as client:
        # 1. check the URL
        target = guard.check(url, param)
        for hop in range(limits.max_redirects + 1):
            # 2. GET from a checked address
            with _get(client, target, limits, deadline, param) as response:
                # 3. a redirect: check its target, then follow it
                if response.status_code in REDIRECTS and "location" in response.headers:
                    if hop == limits.max_redirects:
                        raise UrlFetchFailed(
                            f"Parameter '{param}' redirected more than {limits.max_redirects} times; "
                            f"the limit is {limits.max_redirects} redirects.",
                            param=param,
                        )
                    target = guard.check(_follow(target, response.headers["location"], param), param)
                    continue
                # 4. an error status
                if not 200 <= response.status_code < 300:
                    raise UrlFetchFailed(
                        f"Parameter '{param}' could not be fetched: the server answered HTTP "
                        f"{response.status_code}.",
                        param=param,
                    )
                # 5. the body
                return _read_body(response, limits, deadline, param)
    raise AssertionError("unreachable: the loop returns or raises")


@functools.cache
def _system_tls() -> ssl.SSLContext:
    """httpx's default verifying context, built once: loading the CA bundle costs tens of ms."""
    return httpx.create_ssl_context()


@contextmanager
def _get(
    client: httpx.Client, target: Target, limits: FetchLimits, deadline: float, param: str
) -> Iterator[httpx.Response]:
    """A streamed GET to the first checked address that accepts the connection."""
    failure: UrlError | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        timeout = httpx.Timeout(remaining, connect=min(limits.connect_timeout, remaining))
        pinned, headers, extensions = target.pinned(address)
        headers |= {"User-Agent": USER_AGENT, "Accept": "image/*", "Accept-Encoding": "identity"}
        request = client.build_request("GET", pinned, headers=headers, extensions=extensions, timeout=timeout)
        try:
            response = client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # try the host's next address
            failure = _transport_error(exc, target, param)
            continue
        except httpx.HTTPError as exc:
            raise _transport_error(exc, target, param) from None
        try:
            yield response
        except httpx.HTTPError as exc:
            raise _transport_error(exc, target, param) from None
        finally:
            response.close()
        return
    raise failure or _timeout(param, limits)


def _read_body(response: httpx.Response, limits: FetchLimits, deadline: float, param: str) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise _too_large(param, limits, declared)
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise UrlFetchFailed(
            f"Parameter '{param}' was sent compressed (Content-Encoding: {encoding}); serve the image as is.",
            param=param,
        )
    body = bytearray()
    sniffed = False
    for chunk in response.iter_raw():
        body += chunk
        if len(body) > limits.max_bytes:
            raise _too_large(param, limits, None)
        if not sniffed and len(body) >= SNIFF_BYTES:
            _sniff(bytes(body), param)
            sniffed = True
        if time.monotonic() > deadline:
            raise _timeout(param, limits)
    if not sniffed:
        _sniff(bytes(body), param)
    return bytes(body)


def _sniff(head: bytes, param: str) -> None:
    if sniff_image(head[:SNIFF_BYTES]) is None:
        shown = head[:8].hex(" ") if head else "nothing"
        raise UrlNotImage(
            f"Parameter '{param}' did not return an image: the body starts with {shown}, not a JPEG, PNG, "
            "WebP, GIF, BMP, TIFF, HEIF or AVIF signature.",
            param=param,
        )


def _follow(target: Target, location: str, param: str) -> str:
    try:
        return str(target.url.join(location))
    except (httpx.InvalidURL, ValueError) as exc:
        raise UrlFetchFailed(
            f"Parameter '{param}' redirected to a malformed location ({exc}).", param=param
        ) from None


def _transport_error(exc: httpx.HTTPError, target: Target, param: str) -> UrlError:
    if isinstance(exc, httpx.TimeoutException):
        return UrlTimeout(
            f"Parameter '{param}' could not be fetched from {target.url.host} in time ({type(exc).__name__}).",
            param=param,
        )
    return UrlFetchFailed(
        f"Parameter '{param}' could not be fetched from {target.url.host}: {type(exc).__name__}: {exc}"[:400]
        + ".",
        param=param,
    )


def _timeout(param: str, limits: FetchLimits) -> UrlTimeout:
    return UrlTimeout(
        f"Parameter '{param}' could not be fetched within {limits.total_timeout:g} seconds "
        "(images.fetch_timeout_seconds).",
        param=param,
    )


def _too_large(param: str, limits: FetchLimits, declared: str | None) -> UrlTooLarge:
    size = f"{declared} bytes" if declared else f"more than {limits.max_bytes} bytes"
    return UrlTooLarge(
        f"Parameter '{param}' is {size}; the limit is {limits.max_bytes} bytes (images.max_bytes).",
        param=param,
    )
