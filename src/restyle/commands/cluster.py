"""``make cluster`` / ``make cluster-stop``: a whole scale-out deployment on loopback, for trying and testing.

``python -m restyle.commands.cluster start`` brings up, in order: Redis and PostgreSQL (used if they
listen, started if not), a fresh database ``restyle_cluster``, moto's S3 server with the bucket
``restyle``, two API processes (``restyle serve --no-workers``) behind a round-robin proxy, and two
Celery workers (``restyle worker``). It prints ``url: ...`` and ``api_key: ...`` on lines of their own,
writes one pid file per process under ``data/cluster/`` and ``cluster.json`` (the addresses and the
environment). ``stop`` ends exactly the processes those pid files name.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from restyle.devcluster.processes import free_port, read_pid, spawn, stop, wait_port
from restyle.devcluster.s3server import S3Endpoint, moto_command, moto_env
from restyle.devcluster.services import ensure_postgres, ensure_redis, flush_redis_db, reset_database

DEFAULT_RUN_DIR = Path("data/cluster")
BUCKET = "restyle"
DATABASE = "restyle_cluster"
# stop order: the front door first, then the processes behind it, the services last
STOP_ORDER = ("proxy", "api-", "worker-", "s3", "postgres", "redis")


@dataclass
class Cluster:
    """What ``start`` brought up (saved as ``cluster.json``; the bench reads it to kill and restart)."""

    url: str
    api_key: str
    api_urls: list[str]
    s3_url: str
    database_url: str
    broker_url: str
    env: dict[str, str] = field(default_factory=dict)  # the RESTYLE_* and AWS_* of every process

    @classmethod
    def load(cls, run_dir: Path = DEFAULT_RUN_DIR) -> Cluster:
        return cls(**json.loads((run_dir / "cluster.json").read_text()))


def restyle_command(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "restyle"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "restyle.cli", *args]


def start_worker(run_dir: Path, cluster: Cluster, index: int, concurrency: int = 1) -> None:
    """Start (or start again, after a kill) Celery worker ``index`` as ``worker-<index>.pid``."""
    command = restyle_command("worker", "--concurrency", str(concurrency))
    spawn(f"worker-{index}", command, {**os.environ, **cluster.env}, run_dir)


def start(args: argparse.Namespace) -> Cluster:
    """Bring the cluster up (numbered steps); on any failure, stop what was started and re-raise."""
    run_dir: Path = args.run_dir
    running = [p.name for p in run_dir.glob("*.pid") if read_pid(p) is not None]
    if running:
        raise SystemExit(
            f"A cluster is already running from {run_dir} ({', '.join(running)}); run make cluster-stop."
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        return _start(args, run_dir)
    except BaseException:
        stop_all(run_dir)
        raise


def _start(args: argparse.Namespace, run_dir: Path) -> Cluster:
    # 1. Redis and PostgreSQL, then a fresh database and an empty broker database
    ensure_redis(args.redis_port, run_dir)
    ensure_postgres(args.pg_port, run_dir)
    reset_database(f"postgresql://postgres@127.0.0.1:{args.pg_port}/postgres", args.database)
    flush_redis_db(args.redis_port, args.redis_db)
    # 2. the S3 server and its bucket
    s3_port = free_port()
    s3 = spawn("s3", moto_command(s3_port), moto_env(), run_dir)
    wait_port(s3_port, 60, s3, "the moto S3 server")
    endpoint = S3Endpoint(f"http://127.0.0.1:{s3_port}")
    endpoint.create_bucket(BUCKET)
    # 3. the settings every process shares
    proxy_port = args.port or free_port()
    url = f"http://127.0.0.1:{proxy_port}"
    broker = f"redis://127.0.0.1:{args.redis_port}/{args.redis_db}"
    database_url = f"postgresql+psycopg://postgres@127.0.0.1:{args.pg_port}/{args.database}"
    env = {
        "RESTYLE_DATA_DIR": str((run_dir / "state").resolve()),
        "RESTYLE_TASKS__DATABASE_URL": database_url,
        "RESTYLE_WORKERS__QUEUE": "celery",
        "RESTYLE_WORKERS__BROKER_URL": broker,
        "RESTYLE_LIMITS__STORAGE_URI": broker,
        "RESTYLE_STORAGE__KIND": "s3",
        "RESTYLE_STORAGE__OPTIONS": json.dumps(
            {"bucket": BUCKET, "endpoint_url": endpoint.url, "addressing_style": "path"}
        ),
        "RESTYLE_SERVER__PUBLIC_URL": url,
        "RESTYLE_AUTH__DEMO_ACCOUNT": "false",
        "RESTYLE_SERVER__LOG_LEVEL": "warning",
        "AWS_ACCESS_KEY_ID": endpoint.access_key_id,
        "AWS_SECRET_ACCESS_KEY": endpoint.secret_access_key,
        "AWS_DEFAULT_REGION": endpoint.region,
        "OMP_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    # 4. migrations, the server key and the cluster's account, once, before any process starts
    api_key = _bootstrap(env, args.qps, args.concurrency)
    cluster = Cluster(url, api_key, [], endpoint.url, database_url, broker, env)
    # 5. the API processes, then the proxy in front of them
    api_ports = [free_port() for _ in range(args.apis)]
    for index, port in enumerate(api_ports, start=1):
        command = restyle_command("serve", "--no-workers", "--port", str(port), "--no-access-log")
        process = spawn(f"api-{index}", command, {**os.environ, **env}, run_dir)
        wait_port(port, 120, process, f"API process {index}")
        cluster.api_urls.append(f"http://127.0.0.1:{port}")
    backends = [arg for port in api_ports for arg in ("--backend", f"127.0.0.1:{port}")]
    proxy = spawn("proxy", [sys.executable, "-m", "restyle.devcluster.proxy", "--port", str(proxy_port), *backends],
                  dict(os.environ), run_dir)  # fmt: skip
    wait_port(proxy_port, 30, proxy, "the proxy")
    # 6. the workers; the cluster is up when the API reports them ready
    for index in range(1, args.workers + 1):
        start_worker(run_dir, cluster, index, args.worker_concurrency)
    _wait_ready(url, run_dir, args.workers, timeout=args.timeout)
    (run_dir / "cluster.json").write_text(json.dumps(asdict(cluster), indent=2))
    return cluster


def _bootstrap(env: dict[str, str], qps: float, concurrency: int) -> str:
    """Migrate the database, create the server key and an account; its API key."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        from restyle.api.services import open_database
        from restyle.auth.accounts import AccountStore
        from restyle.auth.keys import KeyStore
        from restyle.config import Settings

        settings = Settings.load()
        db, server_key = open_database(settings)
        account = AccountStore(db, settings.limits).create("cluster", qps=qps, concurrency=concurrency)
        api_key: str = KeyStore(db, server_key).issue(account).api_key
        db.dispose()
        return api_key
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _wait_ready(url: str, run_dir: Path, workers: int, timeout: float) -> None:
    """Wait for ``/readyz`` through the proxy; fail early if a worker process exits."""
    deadline = time.monotonic() + timeout
    while True:
        dead = [f"worker-{i}" for i in range(1, workers + 1) if read_pid(run_dir / f"worker-{i}.pid") is None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited during start-up; see {run_dir}/{dead[0]}.log")
        try:
            if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the cluster was not ready within {timeout:g} s; see the logs in {run_dir}")
        time.sleep(0.5)


def stop_all(run_dir: Path) -> list[str]:
    """Stop every process with a pid file in ``run_dir``; the names of those that were running."""
    files = sorted(
        run_dir.glob("*.pid"),
        key=lambda p: next((i for i, s in enumerate(STOP_ORDER) if p.name.startswith(s)), 99),
    )
    return [pid_file.stem for pid_file in files if stop(pid_file)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m restyle.commands.cluster", description=__doc__.splitlines()[0]
    )
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR, help="pid files, logs, state")
    parser.add_argument("--port", type=int, default=0, help="the proxy's port (default: a free one)")
    parser.add_argument("--apis", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument(
        "--redis-db", type=int, default=7, help="the Redis database the cluster empties and uses"
    )
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument(
        "--database", default=DATABASE, help="the PostgreSQL database the cluster drops and creates"
    )
    parser.add_argument("--qps", type=float, default=1000.0, help="the cluster account's submit rate limit")
    parser.add_argument(
        "--concurrency", type=int, default=64, help="the cluster account's running task limit"
    )
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for readiness")
    args = parser.parse_args(argv)
    if args.action == "stop":
        stopped = stop_all(args.run_dir)
        print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
        return
    cluster = start(args)
    print(f"url: {cluster.url}")
    print(f"api_key: {cluster.api_key}")
    print(f"pid files and logs: {args.run_dir}/ (make cluster-stop ends them)")


if __name__ == "__main__":
    main()
