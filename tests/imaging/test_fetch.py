"""The address guard and the URL fetch: every internal address class refused (names resolved by a
test resolver, never DNS), every IPv4 spelling and IPv6 embedding seen through, and real fetches
from a scripted server on 127.0.0.1 (allow-listed, redirected, endless, silent, lying)."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from restyle.config import ImageLimits, Settings
from restyle.errors import (
    ConfigurationError,
    UrlFetchFailed,
    UrlForbidden,
    UrlInvalid,
    UrlNotImage,
    UrlTimeout,
    UrlTooLarge,
)
from restyle.imaging.addresses import parse_ip_host
from restyle.imaging.fetch import FetchLimits, fetch_image, guard_from_settings
from restyle.imaging.urlguard import UrlGuard
from tests.imaging.http_server import ImageServer, image_server

LIMITS = FetchLimits(max_bytes=256 * 1024, connect_timeout=2.0, total_timeout=5.0)


def resolver(table: dict[str, Sequence[str]], calls: list[str] | None = None) -> Callable[[str], Sequence[str]]:
    """Names -> addresses from ``table``; an unknown name does not resolve."""

    def resolve(host: str) -> Sequence[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise OSError(f"test resolver: {host} is unknown")
        return table[host]

    return resolve


def no_dns(host: str) -> Sequence[str]:
    raise AssertionError(f"{host} is an address literal; it must not be resolved")


# --- the address classes, reached through a name -----------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.10.20", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("100.100.100.200", "cloud metadata"),
        ("198.18.0.1", "benchmarking"),
        ("198.19.255.1", "benchmarking"),
        ("192.0.2.10", "documentation"),
        ("198.51.100.10", "documentation"),
        ("203.0.113.10", "documentation"),
        ("224.0.0.251", "multicast"),
        ("239.255.255.250", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("192.0.0.8", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fd00:ec2::254", "cloud metadata"),
        ("fe80::1", "link-local"),
        ("febf::1", "link-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("100::1", "discard-only"),
        ("::ffff:127.0.0.1", "IPv4-mapped IPv6 address of 127.0.0.1, a loopback"),
        ("::ffff:169.254.169.254", "IPv4-mapped IPv6 address of 169.254.169.254, a cloud metadata"),
        ("::ffff:10.0.0.1", "IPv4-mapped IPv6 address of 10.0.0.1, a private"),
        ("::127.0.0.1", "IPv4-compatible IPv6 address of 127.0.0.1, a loopback"),
        ("2002:7f00:1::1", "6to4 address of 127.0.0.1, a loopback"),
        ("2002:a9fe:a9fe::", "6to4 address of 169.254.169.254, a cloud metadata"),
        ("2002:c0a8:101::1", "6to4 address of 192.168.1.1, a private"),
        ("64:ff9b::7f00:1", "NAT64 address of 127.0.0.1, a loopback"),
        ("64:ff9b::a9fe:a9fe", "NAT64 address of 169.254.169.254, a cloud metadata"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo (client) address of 127.0.0.1, a loopback"),
        ("2001:0:a00:1::1", "Teredo (server) address of 10.0.0.1, a private"),
    ],
)
def test_every_internal_address_class_is_refused(address: str, kind: str) -> None:
    guard = UrlGuard(resolver=resolver({"photos.example": [address]}))
    with pytest.raises(UrlForbidden) as caught:
        guard.check("http://photos.example/face.png", "image")
    assert caught.value.code == "url.forbidden" and caught.value.status == 400
    assert caught.value.param == "image"
    message = caught.value.message
    shown = str(ipaddress.ip_address(address))
    assert "Parameter 'image'" in message and kind in message and shown in message, message


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "::ffff:1.1.1.1"]
)
def test_public_addresses_pass_and_are_the_ones_to_connect_to(address: str) -> None:
    target = UrlGuard(resolver=resolver({"photos.example": [address]})).check(
        "https://photos.example:8443/a.png?x=1", "image"
    )
    assert target.addresses == (ipaddress.ip_address(address),)
    url, headers, extensions = target.pinned(target.addresses[0])
    assert url.host == str(ipaddress.ip_address(address)) and url.port == 8443 and url.path == "/a.png"
    assert headers == {"Host": "photos.example:8443"}
    assert extensions == {"sni_hostname": "photos.example"}


def test_a_name_with_one_internal_address_among_public_ones_is_refused() -> None:
    guard = UrlGuard(resolver=resolver({"mixed.example": ["93.184.216.34", "10.0.0.7"]}))
    with pytest.raises(UrlForbidden, match=r"mixed.example \(10.0.0.7\), a private address"):
        guard.check("http://mixed.example/", "image")


# --- addresses written in the URL ----------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "2130706433", "0x7f000001", "0X7F000001", "0177.0.0.1", "0177.0.0.01", "127.1", "0x7f.1",
     "127.0.1", "017700000001", "0x7f.0.0.0x1", "127.0.0.1."],
)
def test_every_ipv4_spelling_of_loopback_is_refused(host: str) -> None:
    with pytest.raises(UrlForbidden, match="loopback") as caught:
        UrlGuard(resolver=no_dns).check(f"http://{host}:8080/x", "image")
    assert "127.0.0.1" in caught.value.message


def _spell(number: int, style: str) -> str:
    return {"dec": str(number), "hex": hex(number), "oct": "0" + format(number, "o")}[style]


@given(
    value=st.integers(min_value=0, max_value=2**32 - 1),
    parts=st.integers(min_value=1, max_value=4),
    styles=st.lists(st.sampled_from(["dec", "hex", "oct"]), min_size=4, max_size=4),
)
def test_ipv4_spellings_read_as_the_system_reads_them(value: int, parts: int, styles: list[str]) -> None:
    packed = value.to_bytes(4, "big")
    numbers = [*packed[: parts - 1], int.from_bytes(packed[parts - 1 :], "big")]
    spelled = ".".join(_spell(number, style) for number, style in zip(numbers, styles, strict=False))
    assert parse_ip_host(spelled) == ipaddress.IPv4Address(value)
    assert socket.inet_aton(spelled) == packed  # the C library agrees


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("[::1]", "loopback"),
        ("[0:0:0:0:0:0:0:1]", "loopback"),
        ("[::ffff:127.0.0.1]", "IPv4-mapped"),
        ("[::ffff:7f00:1]", "IPv4-mapped"),
        ("[::127.0.0.1]", "IPv4-compatible"),
        ("[2002:7f00:1::]", "6to4"),
        ("[64:ff9b::127.0.0.1]", "NAT64"),
        ("[fe80::1]", "link-local"),
        ("[fd00:ec2::254]", "cloud metadata"),
        ("0251.0376.0251.0376", "cloud metadata"),
        ("2852039166", "cloud metadata"),
        ("0xa9fea9fe", "cloud metadata"),
        ("169.254.43518", "cloud metadata"),
        ("0", "unspecified"),
        ("10.1", "private"),
    ],
)
def test_address_literals_are_checked_without_resolving(host: str, kind: str) -> None:
    with pytest.raises(UrlForbidden, match=kind):
        UrlGuard(resolver=no_dns).check(f"http://{host}/latest/meta-data/", "image")


@pytest.mark.parametrize(
    "name", ["localhost", "LOCALHOST", "app.localhost", "metadata.google.internal", "metadata", "metadata.goog"]
)
def test_internal_names_are_refused_before_any_lookup(name: str) -> None:
    with pytest.raises(UrlForbidden, match="name"):
        UrlGuard(resolver=no_dns).check(f"http://{name}/", "image")


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("ftp://photos.example/a.png", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("gopher://127.0.0.1:6379/_", "http:// or https://"),
        ("http:///a.png", "without a host"),
        ("http://user:secret@photos.example/a.png", "user name or password"),
        ("http://user@photos.example/a.png", "user name or password"),
        ("http://photos.example:0/", "port 0"),
        ("http://photos.example:99999/", "port 99999"),
        ("http://photos.example/a b.png", "spaces"),
        ("http://photos.example/" + "a" * 2100, "the limit is 2048"),
        ("http://exa%6dple.com/", "malformed host name"),
        ("http://1.2.3.256/", "out of range"),
        ("http://09.1.1.1/", "not an octal number"),
        ("http://a..b/", "malformed host name"),
    ],
)
def test_malformed_urls_are_invalid(url: str, text: str) -> None:
    with pytest.raises(UrlInvalid, match=text) as caught:
        UrlGuard(resolver=resolver({})).check(url, "image")
    assert caught.value.code == "url.invalid" and caught.value.param == "image"


def test_a_name_that_does_not_resolve_or_resolves_too_slowly_fails() -> None:
    with pytest.raises(UrlFetchFailed, match="does not resolve"):
        UrlGuard(resolver=resolver({})).check("http://nowhere.example/", "image")
    released = threading.Event()

    def slow(host: str) -> Sequence[str]:
        released.wait(10)
        return ["93.184.216.34"]

    try:
        with pytest.raises(UrlTimeout, match="did not resolve within 0.2 seconds"):
            UrlGuard(resolver=slow, resolve_timeout=0.2).check("http://slow.example/", "image")
    finally:
        released.set()


# --- the allow-list -------------------------------------------------------------------------------


def test_the_allow_list_admits_its_networks_and_names_only() -> None:
    table = {"intranet.example": ["10.1.2.3"], "nas.example": ["192.168.1.5"], "cam.lan": ["192.168.7.7"]}
    guard = UrlGuard(["10.0.0.0/8", "cam.lan", "127.0.0.1"], resolver(table))
    assert guard.check("http://intranet.example/", "image").addresses == (ipaddress.ip_address("10.1.2.3"),)
    assert guard.check("http://cam.lan/", "image").addresses == (ipaddress.ip_address("192.168.7.7"),)
    assert guard.check("http://0x7f000001/", "image").addresses == (ipaddress.ip_address("127.0.0.1"),)
    for refused in ("http://nas.example/", "http://127.0.0.2/", "http://[::1]/", "http://169.254.169.254/"):
        with pytest.raises(UrlForbidden):
            guard.check(refused, "image")


def test_fetch_allow_comes_from_the_environment_or_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RESTYLE_IMAGES__FETCH_ALLOW", "127.0.0.1, 10.0.0.0/8,Images.Test")
    assert Settings.load().images.fetch_allow == ["127.0.0.1/32", "10.0.0.0/8", "images.test"]
    monkeypatch.delenv("RESTYLE_IMAGES__FETCH_ALLOW")
    config = tmp_path / "restyle.yaml"
    config.write_text("images:\n  fetch_allow: [fd00::/8, cam.lan]\n  fetch_timeout_seconds: 3\n")
    images = Settings.load(config).images
    assert images.fetch_allow == ["fd00::/8", "cam.lan"] and images.fetch_timeout_seconds == 3
    monkeypatch.setenv("RESTYLE_IMAGES__FETCH_ALLOW", "10.0.0.0/33")
    with pytest.raises(ConfigurationError, match="RESTYLE_IMAGES__FETCH_ALLOW"):
        Settings.load()


# --- real fetches from a scripted server on 127.0.0.1 ---------------------------------------------


@pytest.fixture(scope="module")
def server(astronaut_png: bytes) -> Iterator[ImageServer]:
    with image_server(astronaut_png) as running:
        yield running


LOOPBACK = UrlGuard(["127.0.0.1"], resolver({}))


def test_an_allowed_url_is_fetched_and_a_refused_one_never_contacted(server: ImageServer) -> None:
    assert fetch_image(server.url("/face.png"), guard=LOOPBACK, limits=LIMITS) == server.image
    assert server.requests[-1] == ("/face.png", f"127.0.0.1:{server.port}")
    before = len(server.requests)
    with pytest.raises(UrlForbidden, match="loopback"):
        fetch_image(server.url("/face.png"), guard=UrlGuard(resolver=no_dns), limits=LIMITS)
    assert len(server.requests) == before


def test_the_checked_address_is_the_one_connected_to(server: ImageServer) -> None:
    # images.test exists in no DNS: the fetch works only by connecting to the address the guard checked;
    # the resolver would answer an unchecked private address next time (rebinding) but is asked once
    calls: list[str] = []
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    guard = UrlGuard(["127.0.0.1"], lambda host: (calls.append(host), next(answers))[1])
    assert fetch_image(server.url("/face.png", "images.test"), guard=guard, limits=LIMITS) == server.image
    assert calls == ["images.test"]
    assert server.requests[-1] == ("/face.png", f"images.test:{server.port}")


def test_redirects_are_rechecked_and_limited_to_three(server: ImageServer) -> None:
    assert fetch_image(server.url("/hops/3"), guard=LOOPBACK, limits=LIMITS) == server.image
    server.requests.clear()
    with pytest.raises(UrlFetchFailed, match="more than 3 times"):
        fetch_image(server.url("/hops/4"), guard=LOOPBACK, limits=LIMITS)
    assert [path for path, _ in server.requests] == ["/hops/4", "/hops/3", "/hops/2", "/hops/1"]
    for location, kind in [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        (f"http://[::1]:{server.port}/face.png", "loopback"),
        (f"http://0x7f000002:{server.port}/face.png", "loopback"),
        ("http://10.0.0.1/", "private"),
    ]:
        with pytest.raises(UrlForbidden, match=kind):
            fetch_image(server.url(f"/to?u={location}"), guard=LOOPBACK, limits=LIMITS)
    with pytest.raises(UrlInvalid, match="http:// or https://"):
        fetch_image(server.url("/to?u=file:///etc/passwd"), guard=LOOPBACK, limits=LIMITS)


def test_an_endless_body_is_cut_at_the_byte_cap(server: ImageServer) -> None:
    with pytest.raises(UrlTooLarge, match=f"more than {LIMITS.max_bytes} bytes") as caught:
        fetch_image(server.url("/forever"), guard=LOOPBACK, limits=LIMITS)
    assert caught.value.status == 413 and caught.value.code == "url.too_large"
    with pytest.raises(UrlTooLarge, match=f"is {10**12} bytes; the limit is {LIMITS.max_bytes}"):
        fetch_image(server.url("/declared"), guard=LOOPBACK, limits=LIMITS)


def test_a_server_that_never_answers_times_out(server: ImageServer) -> None:
    quick = FetchLimits(max_bytes=LIMITS.max_bytes, connect_timeout=1.0, total_timeout=1.0)
    with pytest.raises(UrlTimeout) as caught:  # the server would hold the request for 30 s
        fetch_image(server.url("/silent"), guard=LOOPBACK, limits=quick)
    assert caught.value.code == "url.timeout"


def test_the_body_must_be_an_image_whatever_its_content_type(server: ImageServer) -> None:
    with pytest.raises(UrlNotImage, match="did not return an image"):
        fetch_image(server.url("/html"), guard=LOOPBACK, limits=LIMITS)
    with pytest.raises(UrlFetchFailed, match="Content-Encoding: gzip"):
        fetch_image(server.url("/gzip"), guard=LOOPBACK, limits=LIMITS)


def test_error_statuses_and_closed_ports_fail_with_the_reason(server: ImageServer) -> None:
    for status in (404, 500):
        with pytest.raises(UrlFetchFailed, match=f"HTTP {status}"):
            fetch_image(server.url(f"/status/{status}"), guard=LOOPBACK, limits=LIMITS)
    with image_server(b"") as closed:
        url = closed.url("/face.png")
    with pytest.raises(UrlFetchFailed, match="ConnectError"):
        fetch_image(url, guard=LOOPBACK, limits=LIMITS)


def test_the_guard_from_settings_uses_images_fetch_allow(server: ImageServer) -> None:
    images = ImageLimits(fetch_allow=["127.0.0.0/8"], max_bytes=LIMITS.max_bytes)
    limits = FetchLimits.from_settings(images)
    assert (limits.max_bytes, limits.connect_timeout, limits.total_timeout) == (LIMITS.max_bytes, 5.0, 20.0)
    assert fetch_image(server.url("/face.png"), guard=guard_from_settings(images), limits=limits) == server.image


# --- TLS: connected to the checked address, certificate checked against the name -----------------


def _certificates(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context for images.test, client context trusting only the test CA)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "restyle test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "images.test")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("images.test")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


def test_https_goes_to_the_checked_address_with_the_name_as_server_name(
    astronaut_png: bytes, tmp_path: Path
) -> None:
    server_tls, client_tls = _certificates(tmp_path)
    guard = UrlGuard(["127.0.0.1"], resolver({"images.test": ["127.0.0.1"]}))
    with image_server(astronaut_png, tls=server_tls) as server:
        url = server.url("/face.png", "images.test", scheme="https")
        assert fetch_image(url, guard=guard, limits=LIMITS, verify=client_tls) == astronaut_png
        assert server.requests[-1] == ("/face.png", f"images.test:{server.port}")
        # the same server by its address: its certificate does not name 127.0.0.1, so TLS refuses it
        with pytest.raises(UrlFetchFailed, match="ConnectError"):
            fetch_image(server.url("/face.png", scheme="https"), guard=guard, limits=LIMITS, verify=client_tls)
