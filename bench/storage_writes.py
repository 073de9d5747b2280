"""Cost of "do not overwrite" writes on the local storage: ``put_if_absent`` (temp file + link) and the
TOS object store's ``put(if_absent=True)`` (record claimed first) against a plain ``put`` (temp file +
rename) of the same bytes in the same run. Median wall ms and CPU ms per write, and the ratio to
``put``. Also the CRC-64 every TOS upload computes: lane length by input size against the former
fixed 4096-byte lanes, with hashlib's MD5 (C, also computed per upload) as the baseline.
Writes bench/reports/storage_writes.md.
Usage: python bench/storage_writes.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench.common import REPORTS, machine, single_thread, table


def _median(write: Callable[[str], object], repeats: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``write(fresh key)``."""
    walls, cpus = [], []
    for _ in range(repeats):
        key = f"k/{uuid.uuid4().hex}"
        wall, cpu = time.perf_counter(), time.process_time()
        write(key)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def _cpu_ms(work: Callable[[], object], repeats: int) -> float:
    """Median CPU milliseconds of ``work()``."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        work()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    single_thread()
    from restyle.api.fronts.tos.objects import ObjectStore
    from restyle.storage.buckets import BucketRow
    from restyle.storage.local import LocalStorage

    rows = []
    with tempfile.TemporaryDirectory() as root:
        storage = LocalStorage(Path(root))
        objects = ObjectStore(storage)
        bucket = BucketRow(name="bench", id="bbench")
        storage.put("taken", b"x")
        for size in (4 * 1024, 1024 * 1024, 8 * 1024 * 1024):
            data = os.urandom(size)
            put = _median(lambda key, data=data: storage.put(key, data), args.repeats)
            create = _median(lambda key, data=data: storage.put_if_absent(key, data), args.repeats)
            refused = _median(lambda key, data=data: storage.put_if_absent("taken", data), args.repeats)
            obj_put = _median(lambda key, data=data: objects.put(bucket, key, data, "x", {}), args.repeats)
            obj_new = _median(
                lambda key, data=data: objects.put(bucket, key, data, "x", {}, if_absent=True), args.repeats
            )
            rows.append(
                [
                    f"{size // 1024} KB",
                    put[0],
                    put[1],
                    create[0],
                    create[0] / put[0],
                    refused[0],
                    obj_put[0],
                    obj_new[0],
                    obj_new[0] / obj_put[0],
                ]
            )
    from restyle.api.fronts.tos.crc64 import crc64, lane_length

    crc_rows = []
    for size in (4 * 1024, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024, 20 * 1024 * 1024):
        data = os.urandom(size)
        crc64(data, lane=4096), crc64(data)  # the fold tables are built once per lane length
        fixed = _cpu_ms(lambda data=data: crc64(data, lane=4096), max(3, args.repeats // 5))
        adaptive = _cpu_ms(lambda data=data: crc64(data), max(3, args.repeats // 5))
        md5 = _cpu_ms(lambda data=data: hashlib.md5(data).digest(), max(3, args.repeats // 5))
        crc_rows.append(
            [f"{size // 1024} KB", lane_length(size), adaptive, fixed, fixed / adaptive, md5, adaptive / md5]
        )
    report = "\n\n".join(
        [
            "# Storage writes that must not overwrite",
            f"Machine: {machine()}; shared by several engineers while this ran, so read the ratios "
            f"(same run, same bytes), not the absolute times. Median of {args.repeats} writes, one thread, "
            "local disk (tmpfs or not, as /tmp is here).",
            table(
                [
                    "size",
                    "put ms",
                    "put CPU ms",
                    "put_if_absent ms",
                    "ratio to put",
                    "refused (taken) ms",
                    "TOS object put ms",
                    "TOS put if_absent ms",
                    "ratio",
                ],
                rows,
            ),
            "A refused put_if_absent still writes its temp file before link() fails: its cost is a write's. "
            "The TOS if_absent path writes the record first (claim), then the bytes: the same two writes "
            "as a plain put, in the other order. The TOS columns include the CRC-64 below.",
            "## CRC-64/XZ of an upload (`x-tos-hash-crc64ecma`), median CPU ms",
            table(
                ["size", "lane", "by size ms", "fixed 4096 ms", "speed-up", "MD5 (C) ms", "CRC / MD5"],
                crc_rows,
            ),
        ]
    )
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "storage_writes.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
