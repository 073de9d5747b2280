"""API hot path: how many submits and polls per second the API alone answers (no workers running).

`wrk` (C, from Debian) drives 64 connections on loopback against ``restyle serve --no-workers`` (one
process) or ``uvicorn --factory --workers N restyle.api.app:api_only_app`` (N processes), on the
embedded SQLite store and on PostgreSQL. Three loads per server, 10 s each after a warm-up:

- ``healthz``: ``GET /healthz``, the HTTP stack's own ceiling (the same-run baseline);
- ``submit``: ``POST /v1/tasks`` with a ~100 kB JPEG (multipart, ``Prefer: respond-async``);
- ``poll``: ``GET /v1/tasks/{id}`` over the tasks just submitted (PENDING: each has a queue position).

Per load: requests/s, p50/p99 latency (wrk's), errors, the server processes' CPU ms per request, and
the client's CPU (wrk's own, from rusage). ``--compare REV`` runs the same loads on the code of git
revision REV (its ``src/`` exported to a temp dir) in the same run, so before/after are ratios.
Writes its section of bench/reports/api.md.

Usage: python bench/api_hot_path.py [--stores sqlite,postgres] [--processes 1,2] [--compare REV]
       [--duration 10] [--connections 64] [--threads 2] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from common import REPORTS, ROOT, machine, square

SECTION = "API hot path"
BOUNDARY = "restyle-bench-boundary"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}

SUBMIT_LUA = """
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. os.getenv("BENCH_BOUNDARY")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
wrk.headers["Prefer"] = "respond-async"
"""

POLL_LUA = """
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
local i = 0
function init(args) math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16)); i = math.random(#ids) end
function request()
  i = i % #ids + 1
  return wrk.format("GET", "/v1/tasks/" .. ids[i])
end
"""


# ---- inputs ------------------------------------------------------------------------------------------


def jpeg_near(target: int) -> bytes:
    """The astronaut portrait as a JPEG of about ``target`` bytes (largest side that stays under)."""
    from PIL import Image

    from restyle.samples import load_sample

    portrait = load_sample("astronaut")
    best = b""
    for side in range(384, 2049, 32):
        buffer = io.BytesIO()
        Image.fromarray(square(portrait, side)[:, :, ::-1]).save(buffer, "JPEG", quality=90)
        if buffer.tell() > target:
            break
        best = buffer.getvalue()
    return best


def multipart_body(image: bytes) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="style"\r\n\r\nsketch\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + image + f"\r\n--{BOUNDARY}--\r\n".encode()


# ---- CPU accounting -----------------------------------------------------------------------------------


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and every live descendant (uvicorn's worker processes), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        seconds[child] = (int(fields[11]) + int(fields[12])) / tick
    family, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    return sum(seconds.get(member, 0.0) for member in family)


def backends_cpu_seconds(database: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``database`` (their titles name it): the
    API's connections stay open through a load, other jobs' databases are not counted."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if f" {database} ".encode() not in (proc / "cmdline").read_bytes().replace(b"\0", b" "):
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---- the server ---------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One API server (1 or N processes) on a fresh data dir and database."""

    process: subprocess.Popen[bytes]
    base: str
    env: dict[str, str]

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def start_server(data_dir: Path, database_url: str | None, processes: int, src: Path | None) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "RESTYLE_DATA_DIR": str(data_dir),
        "RESTYLE_SERVER__LOG_LEVEL": "warning",
        "RESTYLE_AUTH__DEMO_ACCOUNT": "false",
        "RESTYLE_LIMITS__MAX_PENDING": "10000000",  # every submit stays PENDING here
    }
    if database_url:
        env["RESTYLE_TASKS__DATABASE_URL"] = database_url
    if src is not None:
        env["PYTHONPATH"] = str(src)
    python = [sys.executable]
    if processes == 1:
        command = python + ["-c", "from restyle.cli import main; main()", "serve", "--no-workers"]
        command += ["--no-access-log", "--port", str(port)]
    else:
        command = python + ["-m", "uvicorn", "--factory", "restyle.api.app:api_only_app"]
        command += ["--workers", str(processes), "--port", str(port), "--no-access-log"]
        command += ["--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", env)
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{server.base}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"the API server did not start: {' '.join(command)}")
        time.sleep(0.2)


def create_key(server: Server) -> str:
    command = [sys.executable, "-c", "from restyle.cli import main; main()", "keys", "create"]
    command += ["--name", "bench", "--qps", "10000", "--concurrency", "1000", "--json"]
    created = subprocess.run(command, env=server.env, capture_output=True, text=True, check=True)
    return str(json.loads(created.stdout)["api_key"])


def task_ids(server: Server, api_key: str, at_most: int = 2000) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {api_key}"}) as http:
        while len(ids) < at_most:
            params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = http.get("/v1/tasks", params=params, timeout=60).json()
            ids += [task["id"] for task in page["data"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
    return ids


def pending(server: Server) -> int:
    """How many tasks wait (the poll's queue positions count them)."""
    with httpx.Client(base_url=server.base) as http:
        metrics = http.get("/metrics", timeout=60).text
    return int(float(re.search(r"^restyle_queue_depth (\S+)$", metrics, re.M).group(1)))  # type: ignore[union-attr]


# ---- wrk ----------------------------------------------------------------------------------------------


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict[str, float]:
    result: dict[str, float] = {"errors": 0.0}
    for name, quantile in (("p50", "50%"), ("p99", "99%")):
        match = re.search(rf"^\s+{quantile}\s+(\S+)\s*$", output, re.M)
        result[name] = _ms(match.group(1)) if match else float("nan")
    result["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    result["requests"] = float(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        result["errors"] += float(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        result["errors"] += sum(float(n) for n in match.groups())
    return result


def run_wrk(
    server: Server,
    path: str,
    script: Path | None,
    env: dict[str, str],
    args: argparse.Namespace,
    seconds: float,
) -> dict[str, float]:
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds:g}s"]
    command += ["--latency", "--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    url = server.env.get("RESTYLE_TASKS__DATABASE_URL", "")
    postgres = url.rsplit("/", 1)[1] if url.startswith("postgresql") else None
    server_before, client_before = tree_cpu_seconds(server.process.pid), children_cpu()
    postgres_before = backends_cpu_seconds(postgres) if postgres else 0.0
    done = subprocess.run(
        command + [server.base + path], env={**os.environ, **env}, capture_output=True, text=True
    )
    server_cpu = tree_cpu_seconds(server.process.pid) - server_before
    client_cpu = children_cpu() - client_before
    postgres_cpu = backends_cpu_seconds(postgres) - postgres_before if postgres else float("nan")
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr}")
    result = parse_wrk(done.stdout)
    requests = max(result["requests"], 1.0)
    result["server_cpu_ms"] = 1000 * server_cpu / requests
    result["postgres_cpu_ms"] = 1000 * postgres_cpu / requests
    result["server_cores"] = server_cpu / seconds
    result["client_cores"] = client_cpu / seconds
    return result


# ---- one configuration --------------------------------------------------------------------------------


def create_database(base_url: str) -> tuple[str, str]:
    """(URL of a fresh PostgreSQL database, its name)."""
    import psycopg

    name = f"restyle_bench_{uuid.uuid4().hex[:8]}"
    plain = base_url.replace("postgresql+psycopg://", "postgresql://").rstrip("/")
    with psycopg.connect(plain + "/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url.rstrip('/')}/{name}", name


def drop_database(base_url: str, name: str) -> None:
    import psycopg

    plain = base_url.replace("postgresql+psycopg://", "postgresql://").rstrip("/")
    with psycopg.connect(plain + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(
    code: str, src: Path | None, store: str, processes: int, work: Path, args: argparse.Namespace
) -> list[list[object]]:
    data_dir = Path(tempfile.mkdtemp(prefix="restyle-hot-", dir=args.tmp))
    database_url, db_name = (None, "")
    if store == "postgres":
        database_url, db_name = create_database(args.pg_url)
    server = start_server(data_dir, database_url, processes, src)
    rows: list[list[object]] = []
    try:
        key = create_key(server)
        env = {"BENCH_BODY": str(work / "body"), "BENCH_BOUNDARY": BOUNDARY, "BENCH_KEY": key}
        submit, poll = work / "submit.lua", work / "poll.lua"
        run_wrk(server, "/v1/tasks", submit, env, args, args.warmup)  # warm-up: caches, pools, JIT of paths
        loads = [("healthz", "/healthz", None), ("submit", "/v1/tasks", submit)]
        results = {
            name: run_wrk(server, path, script, env, args, args.duration) for name, path, script in loads
        }
        ids = task_ids(server, key)
        (work / "ids").write_text("\n".join(ids) + "\n")
        env["BENCH_IDS"] = str(work / "ids")
        results["poll"] = run_wrk(server, "/", poll, env, args, args.duration)
        for name, result in results.items():
            rows.append(
                [
                    code,
                    store,
                    processes,
                    f"poll ({pending(server)} PENDING)" if name == "poll" else name,
                    result["rps"],
                    result["p50"],
                    result["p99"],
                    int(result["errors"]),
                    result["server_cpu_ms"],
                    postgres_cell(store, result["postgres_cpu_ms"]),
                    result["server_cores"],
                    result["client_cores"],
                    result["rps"] / results["healthz"]["rps"],
                ]
            )
            print(" | ".join(str(v) for v in rows[-1]), flush=True)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        if db_name:
            drop_database(args.pg_url, db_name)
    return rows


def postgres_cell(store: str, cpu_ms: float) -> object:
    """Backends the pool closes during a load take their CPU with them: a drop says only "unknown"."""
    if store != "postgres":
        return "-"
    return cpu_ms if cpu_ms >= 0 else "n/a"


def export_revision(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT.parent), "archive", revision, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def section_of(path: Path, title: str) -> str:
    """The ``## title`` section of ``path`` (to the next ``## `` heading), or ""."""
    old = path.read_text() if path.exists() else ""
    start = old.find(f"\n## {title}\n")
    if start < 0:
        return ""
    end = old.find("\n## ", start + 1)
    return old[start + 1 : end + 1 if end >= 0 else len(old)]


def replace_section(path: Path, title: str, text: str) -> None:
    """Put ``text`` (which starts with ``## title``) in place of that section of ``path``, or append it."""
    old = path.read_text() if path.exists() else ""
    start = old.find(f"\n## {title}\n")
    if start < 0:
        path.write_text(old.rstrip("\n") + "\n\n" + text)
        return
    end = old.find("\n## ", start + 1)
    path.write_text(old[: start + 1] + text + (old[end + 1 :] if end >= 0 else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--processes", default="1,2", help="API process counts")
    parser.add_argument("--compare", default="", help="git revision to measure in the same run (before)")
    parser.add_argument("--compare-processes", default="1", help="API process counts for --compare")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--tmp", default=None, help="where data dirs go (default: the system temp dir)")
    parser.add_argument("--out", type=Path, default=REPORTS / "api.md")
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="restyle-hot-work-"))
    image = jpeg_near(100_000)
    (work / "body").write_bytes(multipart_body(image))
    (work / "submit.lua").write_text(SUBMIT_LUA)
    (work / "poll.lua").write_text(POLL_LUA)
    rows: list[list[object]] = []
    try:
        plan: list[tuple[str, Path | None, str]] = []
        if args.compare:
            plan += [(f"before: {args.compare}", export_revision(args.compare, work), args.compare_processes)]
        plan += [("this tree", None, args.processes)]
        for code, src, counts in plan:
            for store in args.stores.split(","):
                for processes in (int(n) for n in counts.split(",")):
                    rows += measure(code, src, store, processes, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()

    from common import table

    headers = [
        "code",
        "store",
        "API processes",
        "load",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "server CPU ms/request",
        "PostgreSQL CPU ms/request",
        "server cores busy",
        "wrk cores busy",
        "vs healthz",
    ]
    command = " ".join(["python bench/api_hot_path.py"] + sys.argv[1:])
    report = f"""## {SECTION}

`{command}`

Machine: {machine()}; load average {load_before[0]:.2f} before and {load_after[0]:.2f} after the run
(other engineers' jobs share the 2 cores, so requests/s move between runs; CPU ms per request moves
less).

No workers run (`restyle serve --no-workers`; `uvicorn --factory --workers N
restyle.api.app:api_only_app` for N API processes), so only the API is timed: every submitted task
stays PENDING. `wrk` drives {args.connections} connections from {args.threads} threads on loopback for
{args.duration:g} s per load after a {args.warmup:g} s submit warm-up. `submit` = `POST /v1/tasks`, multipart,
a {len(image) // 1000} kB JPEG (astronaut), style `sketch`, `Prefer: respond-async` (answer 202);
`poll` = `GET /v1/tasks/{{id}}` over up to 2,000 of the tasks just submitted (all PENDING, so each
answer counts its queue position); `healthz` = `GET /healthz`, the HTTP stack's own ceiling on the
same server, the same-run baseline ("vs healthz"). Latencies are wrk's. "server CPU ms/request" =
CPU seconds of the server processes during the load / requests answered; "cores busy" = CPU
seconds / wall seconds (wrk's own from rusage: what the client took from the cores it measures).
PostgreSQL: the machine's server on 127.0.0.1:5432, a fresh database per row group; "PostgreSQL CPU
ms/request" = CPU of the backends serving that database (the API's pooled connections), to add to the
server's for the whole cost. Projections for cores of its own: 2 / (server + PostgreSQL CPU per request).

{table(headers, rows)}

What the profile showed (py-spy on the server under this load, before): a submit spent about a third of
its CPU decoding the whole photo and converting it to sRGB only to check it, and most of the rest in
database sessions (the API key's row, a count of PENDING tasks, the insert, then the new task's queue
position, a count joined to the accounts table row by row) spread over three thread hops; a poll spent
most in that joined count (about 3 ms at 3,000 PENDING tasks), the key's row, two thread hops and a
response validated twice. API keys were never a slow hash (SHA-256), but cost a database read each.
What changed: checked keys are kept 5 s in memory (`restyle.auth.keys.VerifiedKeys`; changes through
the process drop them at once); a poll is one thread hop and one statement read with SQLAlchemy Core (the row, with its queue
position as two counts on the `(status, submitted_at)` index, `restyle.tasks.positions`); a submit
checks a JPEG at 1/8 scale (`restyle.imaging.codecs.check_image`: every entropy-coded byte is still
read, so truncation is still refused, and sizes are checked from the header first), counts PENDING tasks
once for both the queue bound and the answer's queue position, and runs in one thread hop; answers are
serialized once by pydantic. uvicorn already ran on uvloop and httptools; the access log is off here.
"""
    print(report)
    if not args.no_report:
        replace_section(args.out, SECTION, report)


if __name__ == "__main__":
    main()
