"""Input speed: median ms to decode base64 inputs (wrapped, flat, URL-safe; versus the standard library),
to check a URL with the address guard, and to fetch an image from a server on 127.0.0.1 through the
guard (pinned address, byte cap, sniffing). Writes bench/reports/inputs_speed.md.
Usage: python bench/inputs_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time
from collections.abc import Callable

from common import REPORTS, ROOT, machine, single_thread, table

sys.path.insert(0, str(ROOT.parent))  # the tests' loopback image server


def _median_ms(work: Callable[[], object], repeats: int) -> float:
    work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    single_thread()
    from restyle.imaging.fetch import FetchLimits, fetch_image
    from restyle.imaging.sources import decode_base64
    from restyle.imaging.urlguard import UrlGuard
    from tests.imaging.http_server import image_server

    decode_rows = []
    for megabytes in (1, 5, 20):
        raw = os.urandom(megabytes * 1024 * 1024)
        wrapped = base64.encodebytes(raw).decode()  # 76-character lines
        flat = base64.b64encode(raw).decode()
        url_safe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        decode_rows.append(
            [
                megabytes,
                _median_ms(lambda text=wrapped: decode_base64(text, "image"), args.repeats),
                _median_ms(lambda text=flat: decode_base64(text, "image"), args.repeats),
                _median_ms(lambda text=url_safe: decode_base64(text, "image"), args.repeats),
                _median_ms(lambda text=flat: base64.b64decode(text, validate=True), args.repeats),
            ]
        )
    guard = UrlGuard(resolver=lambda host: ["93.184.216.34", "2606:2800:220:1::1"])
    guard_rows = [
        [kind, _median_ms(lambda url=url: [guard.check(url, "image") for _ in range(1000)], args.repeats)]
        for kind, url in [
            ("name (test resolver, 2 addresses)", "https://photos.example/a.png"),
            ("IPv4 literal", "http://93.184.216.34/a.png"),
            ("IPv4 hex spelling", "http://0x5db8d822/a.png"),
            ("IPv6 literal", "http://[2606:2800:220:1::1]/a.png"),
        ]
    ]
    fetch_rows = []
    loopback = UrlGuard(["127.0.0.1"], lambda host: [])
    limits = FetchLimits(max_bytes=64 * 1024 * 1024)
    for megabytes in (0.1, 1, 5, 20):
        image = b"\x89PNG\r\n\x1a\n" + os.urandom(int(megabytes * 1024 * 1024))
        with image_server(image) as server:
            url = server.url("/face.png")
            ms = _median_ms(lambda url=url: fetch_image(url, guard=loopback, limits=limits), args.repeats)
        fetch_rows.append([megabytes, ms, megabytes / (ms / 1000)])
    report = "\n\n".join(
        [
            "# Input speed",
            f"Machine: {machine()}. Median of {args.repeats} runs, one thread.",
            "## Base64 inputs (`restyle.imaging.sources.decode_base64`), ms",
            table(["MB decoded", "wrapped 76/line", "flat", "URL-safe, unpadded", "stdlib b64decode (flat)"],
                  decode_rows),
            "## Address guard (`UrlGuard.check`), ms per 1000 checks",
            table(["URL host", "ms / 1000"], guard_rows),
            "## Fetch from 127.0.0.1 (`restyle.imaging.fetch.fetch_image`, allow-listed)",
            table(["MB", "ms", "MB/s"], fetch_rows),
        ]
    )
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "inputs_speed.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
