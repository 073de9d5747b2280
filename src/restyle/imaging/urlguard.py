"""The address guard: a URL is checked (syntax, host resolution, address classes) before any connection.

:meth:`UrlGuard.check` returns a :class:`Target` holding the addresses that were checked; callers
connect to one of those addresses (with the name in the ``Host`` header and as TLS server name), so
a second DNS answer (rebinding) can never send a request somewhere unchecked.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from restyle.errors import UrlFetchFailed, UrlForbidden, UrlInvalid, UrlTimeout
from restyle.imaging.addresses import METADATA_NAMES, AllowList, IPAddress, forbidden_reason, parse_ip_host

Resolver = Callable[[str], Sequence[str]]
"""A host name -> the IP addresses it resolves to (as strings); raises OSError when it does not."""

MAX_URL_LENGTH = 2048
_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?")
_RESOLVERS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="resolve")


def system_resolver(host: str) -> list[str]:
    """The host's addresses from the operating system's resolver (getaddrinfo)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_url(url: str, param: str) -> httpx.URL:
    """The URL parsed, or :class:`UrlInvalid`: http(s), a host, no user info, a port in 1..65535."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlInvalid(
            f"Parameter '{param}' is a URL of {len(url)} characters; the limit is {MAX_URL_LENGTH}.", param=param
        )
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise UrlInvalid(f"Parameter '{param}' is a URL with spaces or control characters.", param=param)
    try:
        parsed = httpx.URL(_canonical_ipv4(url, param))
    except (httpx.InvalidURL, ValueError) as exc:
        raise UrlInvalid(f"Parameter '{param}' is not a valid URL ({exc}).", param=param) from None
    if parsed.scheme not in ("http", "https"):
        raise UrlInvalid(
            f"Parameter '{param}' must be an http:// or https:// URL, not '{parsed.scheme or url[:20]}'.",
            param=param,
        )
    if not parsed.raw_host:
        raise UrlInvalid(f"Parameter '{param}' is a URL without a host.", param=param)
    if parsed.userinfo:
        raise UrlInvalid(
            f"Parameter '{param}' is a URL with a user name or password; put no credentials in URLs.",
            param=param,
        )
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise UrlInvalid(f"Parameter '{param}' is a URL with port {parsed.port}; ports are 1 to 65535.", param=param)
    return parsed


def _canonical_ipv4(url: str, param: str) -> str:
    """The URL with an IPv4 host in any spelling (``0x7f000001``, ``0177.0.0.1``, ``127.1``) written
    as dotted decimal, the way browsers read it (and httpx, which refuses such spellings, can parse)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url  # httpx names the problem
    userinfo, at, hostport = parts.netloc.rpartition("@")
    host, colon, port = hostport.partition(":")
    if not host or host.startswith("["):
        return url
    try:
        literal = parse_ip_host(host.lower())
    except ValueError as exc:
        raise UrlInvalid(f"Parameter '{param}' has a malformed host: {exc}.", param=param) from None
    if literal is None or str(literal) == host:
        return url
    return urlunsplit(parts._replace(netloc=f"{userinfo}{at}{literal}{colon}{port}"))


@dataclass(frozen=True)
class Target:
    """A checked URL and the addresses it may be reached at (each one checked)."""

    url: httpx.URL
    addresses: tuple[IPAddress, ...]

    def pinned(self, address: IPAddress) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
        """(URL with the address as host, headers, request extensions) for a request to ``address``."""
        headers = {"Host": self.url.netloc.decode("ascii")}
        extensions: dict[str, Any] = {}
        if self.url.scheme == "https":  # the certificate is checked against the name, not the address
            extensions["sni_hostname"] = self.url.raw_host.decode("ascii")
        return self.url.copy_with(host=str(address)), headers, extensions


class UrlGuard:
    """Refuses URLs whose host is or resolves to an internal address, unless the allow-list admits it.

    ``allow`` holds host names, addresses and CIDR networks (``images.fetch_allow``); ``resolver``
    maps a name to addresses (the system's by default; tests pass their own).
    """

    def __init__(
        self, allow: Iterable[str] = (), resolver: Resolver | None = None, resolve_timeout: float = 5.0
    ) -> None:
        self.allow = AllowList.parse(allow)
        self.resolver = resolver or system_resolver
        self.resolve_timeout = resolve_timeout

    def check(self, url: str | httpx.URL, param: str) -> Target:
        """Steps: 1. syntax; 2. the host as an address (any IPv4 spelling) or a name; 3. refused names;
        4. resolve names; 5. every address must be public or admitted."""
        # 1. syntax
        parsed = url if isinstance(url, httpx.URL) else parse_url(url, param)
        host = parsed.raw_host.decode("ascii").lower()
        # 2. an address, or a name
        try:
            literal = parse_ip_host(host)
        except ValueError as exc:
            raise UrlInvalid(f"Parameter '{param}' has a malformed host: {exc}.", param=param) from None
        if literal is not None:
            self._check_address(literal, host, param)
            return Target(parsed, (literal,))
        if not _NAME.fullmatch(host):
            raise UrlInvalid(f"Parameter '{param}' has a malformed host name '{host}'.", param=param)
        # 3. names that are internal whatever they resolve to
        named = self.allow.admits_name(host)
        name = host.rstrip(".")
        if not named and (name in METADATA_NAMES or name == "localhost" or name.endswith(".localhost")):
            kind = "a loopback" if "localhost" in name else "a cloud metadata"
            raise UrlForbidden(_refusal(param, host, f"{kind} name"), param=param)
        # 4. resolve
        addresses = self._resolve(host, param)
        # 5. every address the name has must be allowed: a resolver may answer any of them next time
        if not named:
            for address in addresses:
                self._check_address(address, host, param)
        return Target(parsed, addresses)

    def _check_address(self, address: IPAddress, host: str, param: str) -> None:
        if self.allow.admits(address):
            return
        reason = forbidden_reason(address)
        if reason is not None:
            shown = host if host == str(address) else f"{host} ({address})"
            raise UrlForbidden(_refusal(param, shown, reason), param=param)

    def _resolve(self, host: str, param: str) -> tuple[IPAddress, ...]:
        future = _RESOLVERS.submit(self.resolver, host)
        try:
            answers = future.result(timeout=self.resolve_timeout)
        except concurrent.futures.TimeoutError:
            raise UrlTimeout(
                f"The host '{host}' of parameter '{param}' did not resolve within {self.resolve_timeout:g} seconds.",
                param=param,
            ) from None
        except (OSError, UnicodeError) as exc:
            raise UrlFetchFailed(
                f"The host '{host}' of parameter '{param}' does not resolve ({exc}).", param=param
            ) from None
        addresses = []
        for answer in answers:
            try:
                addresses.append(ipaddress.ip_address(answer))
            except ValueError:
                raise UrlFetchFailed(
                    f"The host '{host}' of parameter '{param}' resolved to '{answer}', which is not an address.",
                    param=param,
                ) from None
        if not addresses:
            raise UrlFetchFailed(f"The host '{host}' of parameter '{param}' has no address.", param=param)
        return tuple(dict.fromkeys(addresses))


def _refusal(param: str, host: str, reason: str) -> str:
    return (
        f"Parameter '{param}' points to {host}, {reason}; the server does not connect to loopback, private, "
        "link-local, metadata or other internal addresses (an operator may admit hosts with "
        "images.fetch_allow)."
    )
