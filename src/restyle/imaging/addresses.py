"""Which network addresses a server-side fetch may reach: the classes an SSRF guard refuses.

An address is refused when it is loopback, private, link-local, multicast, unspecified, reserved,
shared (carrier-grade NAT), benchmarking, documentation, broadcast or a cloud metadata endpoint,
also when it hides inside an IPv6 form that carries an IPv4 address (mapped, compatible, 6to4,
NAT64, Teredo). Host names are parsed the way browsers parse them (WHATWG URL), so
``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and ``127.1`` are the IPv4 address they spell.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that reach a cloud provider's instance metadata service (credentials live there).
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.platformequinix.com",
    }
)

# (network, what it is), most specific first: the first match names the class in messages.
_FORBIDDEN: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), label)
    for network, label in (
        ("169.254.169.254/32", "cloud metadata"),
        ("169.254.170.2/32", "cloud metadata"),
        ("100.100.100.200/32", "cloud metadata"),
        ("168.63.129.16/32", "cloud metadata"),
        ("fd00:ec2::254/128", "cloud metadata"),
        ("0.0.0.0/8", "unspecified"),
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("169.254.0.0/16", "link-local"),
        ("192.0.0.0/24", "reserved (IETF protocol assignments)"),
        ("192.0.2.0/24", "documentation"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("198.18.0.0/15", "benchmarking"),
        ("192.88.99.0/24", "reserved (6to4 relay)"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fc00::/7", "private (unique local)"),
        ("fec0::/10", "private (site-local)"),
        ("fe80::/10", "link-local"),
        ("ff00::/8", "multicast"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("2001:2::/48", "benchmarking"),
        ("100::/64", "reserved (discard-only)"),
        ("64:ff9b:1::/48", "reserved (local-use NAT64)"),
        ("2001:10::/28", "reserved (ORCHID)"),
        ("2001:20::/28", "reserved (ORCHIDv2)"),
        ("5f00::/16", "reserved (SRv6)"),
    )
)

# IPv6 forms that carry an IPv4 address, and where it sits.
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")


def forbidden_reason(address: IPAddress) -> str | None:
    """Why ``address`` may not be reached ("a loopback address", ...), or None when it is public.

    An IPv6 form that carries an IPv4 address is judged by the IPv4 address it carries.
    """
    for network, label in _FORBIDDEN:
        if address.version == network.version and address in network:
            return _phrase(label)
    if isinstance(address, ipaddress.IPv6Address):
        embedded = list(_embedded_ipv4(address))
        for kind, inner in embedded:
            reason = forbidden_reason(inner)
            if reason is not None:
                return f"{kind} address of {inner}, {reason}"
        if embedded:
            return None
    if not address.is_global:  # anything the registries mark special that the table misses
        return _phrase("reserved")
    return None


def _phrase(label: str) -> str:
    return f"{'an' if label[0] in 'aeiou' else 'a'} {label} address"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> Iterable[tuple[str, ipaddress.IPv4Address]]:
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _MAPPED:
        yield "an IPv4-mapped IPv6", low32
    elif address in _TRANSLATED:
        yield "an IPv4-translated IPv6", low32
    elif address in _COMPATIBLE:
        yield "an IPv4-compatible IPv6", low32
    elif address in _NAT64:
        yield "a NAT64", low32
    elif address in _SIX_TO_FOUR:
        yield "a 6to4", ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    elif address in _TEREDO:
        server, client = address.teredo or (low32, low32)
        yield "a Teredo (server)", server
        yield "a Teredo (client)", client


def parse_ip_host(host: str) -> IPAddress | None:
    """The address a URL host spells, or None for a name; ValueError for a malformed number.

    IPv6 comes bracket-free (``::1``). IPv4 follows the WHATWG URL host parser: one to four parts,
    each decimal, ``0x`` hex or ``0``-led octal; the last part fills the remaining bytes.
    """
    if ":" in host:
        return ipaddress.IPv6Address(host)  # ValueError when malformed, zone ids included
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if not parts or not _is_number(parts[-1]):
        return None
    if len(parts) > 4 or not all(_is_number(part) for part in parts):
        raise ValueError(f"'{host}' ends like an IPv4 address but is not one")
    numbers = [_number(part) for part in parts]
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise ValueError(f"'{host}' is an IPv4 address with a part out of range")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _is_number(part: str) -> bool:
    if part.lower().startswith("0x"):
        return all(c in "0123456789abcdefABCDEF" for c in part[2:])
    return part.isascii() and part.isdigit()


def _number(part: str) -> int:
    if part.lower().startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        if any(c in "89" for c in part):
            raise ValueError(f"'{part}' is not an octal number")
        return int(part, 8)
    return int(part)


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks the operator admits although they are internal (``images.fetch_allow``)."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            text = entry.strip().lower().removeprefix("[").removesuffix("]")
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                names.add(text.rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def admits_name(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names

    def admits(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.networks)
