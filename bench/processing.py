"""Processing bench: restyle's action pipeline (over HTTP like thumbor, and in process) beside thumbor,
plain Pillow and pyvips, on the same operations and the same 1 MP and 12 MP JPEGs (the astronaut photo,
4:3, upscaled; made in bench/.cache/processing at run time). Images per second per operation and
input, ratios, one table.

Usage: OMP_NUM_THREADS=1 .venv/bin/python bench/processing.py [--quick] [--no-thumbor] [--no-http] [--small]
Writes bench/reports/processing.md (or --report PATH). thumbor is installed into bench/.cache/thumbor-venv.
"""

from __future__ import annotations

import os

os.environ.setdefault("VIPS_CONCURRENCY", "1")  # libvips threads; must be set before pyvips loads

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from common import REPORTS, ROOT, single_thread
from PIL import Image
from processing_engines import Engine, available_engines, chain_geometry, library_versions, oss_crop_box
from processing_report import Cost, Rows, report, shape_and_difference
from processing_restyle import RestyleServer
from processing_thumbor import (
    LoopbackServer,
    ServerUnavailable,
    ThumborServer,
    ensure_venv,
    thumbor_version,
    write_config,
)

CACHE = ROOT / ".cache"
SIZES = {"1 MP": (1155, 866), "12 MP": (4000, 3000)}
SMALL_SIZES = {"0.8 MP": (1040, 780)}  # --small, for the smoke test (still wider than 1024: no upscaling)


@dataclass(frozen=True)
class Operation:
    """One operation as an OSS/TOS action string and as a thumbor URL for an input of a given size."""

    name: str
    action: str
    thumbor: Callable[[str, int, int], str]


def _thumbor_crop(name: str, w: int, h: int) -> str:
    left, top, right, bottom = oss_crop_box(w, h, 512, 512)
    return f"/unsafe/{left}x{top}:{right}x{bottom}/{name}"


def _thumbor_chain(name: str, w: int, h: int) -> str:
    # thumbor crops before it resizes: the same box mapped back to the source, then resized to the box size
    (rw, rh), (left, top, right, bottom) = chain_geometry(w, h)
    box = f"{round(left * w / rw)}x{round(top * h / rh)}:{round(right * w / rw)}x{round(bottom * h / rh)}"
    return f"/unsafe/{box}/{right - left}x{bottom - top}/filters:rotate(270):format(jpeg)/{name}"


OPERATIONS = [
    Operation("resize w 256", "image/resize,w_256", lambda n, w, h: f"/unsafe/256x0/{n}"),
    Operation("resize w 1024", "image/resize,w_1024", lambda n, w, h: f"/unsafe/1024x0/{n}"),
    Operation("crop 512x512 g_center", "image/crop,w_512,h_512,g_center", _thumbor_crop),
    # thumbor turns counter-clockwise, OSS/TOS clockwise
    Operation("rotate 90", "image/rotate,90", lambda n, w, h: f"/unsafe/filters:rotate(270)/{n}"),
    Operation("format webp", "image/format,webp", lambda n, w, h: f"/unsafe/filters:format(webp)/{n}"),
    Operation("format jpg", "image/format,jpg", lambda n, w, h: f"/unsafe/filters:format(jpeg)/{n}"),
    Operation(
        "chain resize/crop/rotate/jpg",
        "image/resize,w_1024/crop,w_800,h_800,g_center/rotate,90/format,jpg",
        _thumbor_chain,
    ),
]


def make_inputs(folder: Path, sizes: dict[str, tuple[int, int]]) -> dict[str, Path]:
    """JPEGs (quality 90) of the astronaut, cropped to 4:3 and resized; made once and cached."""
    from restyle.samples import load_sample

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    photo = Image.fromarray(load_sample("astronaut")).crop((0, 64, 512, 448))  # 512x384, 4:3
    for label, (w, h) in sizes.items():
        path = folder / f"in_{w}x{h}.jpg"
        if not path.exists():
            photo.resize((w, h), Image.Resampling.LANCZOS).save(path, format="JPEG", quality=90)
        paths[label] = path
    tiny = folder / "tiny.jpg"  # 48x36: restyle's native rules want sides of at least 32
    if not tiny.exists() or Image.open(tiny).size != (48, 36):
        photo.resize((48, 36)).save(tiny, format="JPEG", quality=90)
    return paths


def _cost(call: Callable[[], object], external_cpu: Callable[[], float] | None) -> Cost:
    outside = external_cpu() if external_cpu else 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Cost(wall, cpu + (external_cpu() - outside if external_cpu else 0.0))


def run(args: argparse.Namespace) -> str:
    """Steps: 1 inputs, 2 engines (thumbor started), 3 interleaved timing rounds, 4 the report text."""
    # 1. Inputs, one CPU for everything so thumbor and the in-process engines see the same core.
    sizes = SMALL_SIZES if args.small else SIZES
    folder = args.cache / "processing"
    inputs = make_inputs(folder, sizes)
    data = {label: path.read_bytes() for label, path in inputs.items()}
    cpu = max(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    # 2. Engines in process; thumbor over HTTP with its JPEG/WebP quality set to restyle's.
    engines, quality, notes = available_engines()
    server: ThumborServer | None = None
    ours: RestyleServer | None = None
    versions = [_restyle_version(), *library_versions()]
    overhead: dict[str, dict[str, Cost]] = {}
    if not args.no_thumbor:
        venv = args.cache / "thumbor-venv"
        executable = ensure_venv(venv)
        versions.append(thumbor_version(venv))
        config = args.cache / "thumbor.conf"
        write_config(config, folder, quality.jpeg, quality.webp)
        server = ThumborServer(executable, config, cpu)
    if not args.no_http and any(e.name == "restyle" for e in engines):
        ours = RestyleServer(args.cache / "restyle-http", cpu)
    try:
        if ours is not None:
            ours.wait_ready("/healthz")
            engines.insert(1, _restyle_http_engine(ours, data))
            overhead["restyle-http"] = _http_overhead(ours, _restyle_trivial(ours, folder / "tiny.jpg"), args)
        if server is not None:
            server.wait_ready("/healthcheck")
            engines.append(_thumbor_engine(server, inputs))
            overhead["thumbor"] = _http_overhead(server, _thumbor_trivial(server), args)
        rows, shapes = _measure(engines, data, sizes, args)
    finally:
        for running in (ours, server):
            if running is not None:
                running.stop()
    # 4. Report.
    return report(rows, shapes, engines, versions, notes, overhead, quality, args)


def _restyle_version() -> str:
    """The commit of restyle's actions package measured, and whether the tree had changes in it."""
    package = ROOT.parent / "src" / "restyle" / "imaging" / "actions"
    git = ["git", "-C", str(ROOT.parent)]
    try:
        commit = subprocess.run(
            [*git, "log", "-1", "--format=%h", "--", str(package)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", str(package)], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return "restyle actions (commit unknown)"
    return f"restyle actions at {commit or 'unknown'}" + (" with uncommitted changes" if dirty else "")


def _thumbor_engine(server: ThumborServer, inputs: dict[str, Path]) -> Engine:
    def call(operation: Operation, label: str, data: bytes, w: int, h: int) -> bytes:
        status, body = server.get(operation.thumbor(inputs[label].name, w, h))
        if status != 200:
            raise RuntimeError(f"thumbor answered {status} for {operation.thumbor(inputs[label].name, w, h)}")
        return body

    return Engine("thumbor", call, external_cpu=server.cpu_seconds)


def _restyle_http_engine(server: RestyleServer, data: dict[str, bytes]) -> Engine:
    keys = {label: server.store(f"in_{label.replace(' ', '')}.jpg", body) for label, body in data.items()}

    def call(operation: Operation, label: str, _data: bytes, w: int, h: int) -> bytes:
        status, body = server.get(server.link(keys[label], operation.action))
        if status != 200:
            raise RuntimeError(f"restyle answered {status} for {operation.action}: {body[:200]!r}")
        return body

    def reset(operation: Operation, label: str) -> None:
        server.forget(keys[label], operation.action)

    return Engine("restyle-http", call, external_cpu=server.cpu_seconds, reset=reset)


def _restyle_trivial(server: RestyleServer, tiny: Path) -> Callable[[], object]:
    key = server.store("tiny.jpg", tiny.read_bytes())

    def call() -> object:
        server.forget(key, "image/format,jpg")
        status, body = server.get(server.link(key, "image/format,jpg"))
        if status != 200:
            raise RuntimeError(f"restyle answered {status} for the 48x36 image: {body[:200]!r}")
        return body

    return call


def _thumbor_trivial(server: ThumborServer) -> Callable[[], object]:
    return partial(server.get, "/unsafe/filters:format(jpeg)/tiny.jpg")


def _http_overhead(
    server: LoopbackServer, trivial: Callable[[], object], args: argparse.Namespace
) -> dict[str, Cost]:
    """Median cost of a whole request on a 48x36 image (no pixel work to speak of)."""
    trivial()
    costs = [_cost(trivial, server.cpu_seconds) for _ in range(args.rounds_small * 4)]
    return {
        "48x36 image": Cost(statistics.median(c.wall for c in costs), statistics.median(c.cpu for c in costs))
    }


def _measure(
    engines: list[Engine], data: dict[str, bytes], sizes: dict[str, tuple[int, int]], args: argparse.Namespace
) -> tuple[Rows, dict[tuple[str, str, str], str]]:
    """Interleaved rounds (every engine once per round) so drift on a shared machine hits all alike."""
    rows: Rows = {}
    shapes: dict[tuple[str, str, str], str] = {}
    for label, (w, h) in sizes.items():
        rounds = args.rounds_small if label == next(iter(sizes)) else args.rounds_large
        for operation in OPERATIONS:
            calls = {e.name: partial(e.call, operation, label, data[label], w, h) for e in engines}
            outside = {e.name: e.external_cpu for e in engines}
            resets = {e.name: partial(e.reset, operation, label) if e.reset else None for e in engines}
            outputs = {}
            for name, call in calls.items():  # warm-up, and the outputs compared
                outputs[name] = _reset_then(resets[name], call)
            for name, output in outputs.items():
                shapes[(operation.name, label, name)] = shape_and_difference(output, outputs.get("pillow"))
            costs: dict[str, list[Cost]] = {name: [] for name in calls}
            for _ in range(rounds):
                for name, call in calls.items():
                    _reset_then(resets[name], None)
                    costs[name].append(_cost(call, outside[name]))
            for name in calls:
                wall = statistics.median(c.wall for c in costs[name])
                rows[(operation.name, label, name)] = Cost(
                    wall, statistics.median(c.cpu for c in costs[name])
                )
            line = "  ".join(f"{name} {1 / rows[(operation.name, label, name)].cpu:7.1f}/s" for name in calls)
            print(f"{label:5} {operation.name:30} {line}", file=sys.stderr, flush=True)
    return rows, shapes


def _reset_then(reset: Callable[[], None] | None, call: Callable[[], bytes] | None) -> bytes:
    if reset is not None:
        reset()
    return call() if call is not None else b""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke check")
    parser.add_argument("--no-thumbor", action="store_true", help="skip thumbor (no venv, no server)")
    parser.add_argument("--no-http", action="store_true", help="skip restyle over HTTP (no restyle serve)")
    parser.add_argument("--small", action="store_true", help="one 1040x780 input instead of 1 and 12 MP")
    parser.add_argument("--report", type=Path, default=REPORTS / "processing.md")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where inputs and thumbor's venv go")
    args = parser.parse_args()
    args.rounds_small, args.rounds_large = (2, 1) if args.quick else (21, 7)
    if args.quick and args.small:
        args.rounds_small = 1  # the smoke test: every path once after its warm-up
    single_thread()
    try:
        report = run(args)
    except ServerUnavailable as exc:
        sys.exit(
            f"processing bench: a server is unavailable ({exc}) Run with --no-thumbor or --no-http to bench "
            "without it."
        )
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
