"""Redis and PostgreSQL for the development cluster: used when they listen, started when they do not.

A server this module starts runs from ``run_dir`` (``redis.pid``, ``postgres.pid``) and is stopped
with the cluster; a server that was already running is only used, never stopped.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from restyle.devcluster.processes import port_open, spawn, wait_port


class ServiceError(RuntimeError):
    """A service the cluster needs cannot be started; the message says what to install or free."""


def ensure_redis(port: int, run_dir: Path) -> bool:
    """Redis on 127.0.0.1:``port``; True if this call started it."""
    if port_open(port):
        return False
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceError(f"Redis is not listening on 127.0.0.1:{port} and redis-server is not installed "
                           "(apt-get install redis-server).")  # fmt: skip
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = spawn("redis", command, dict(os.environ), run_dir)
    wait_port(port, 30, process, "redis-server")
    return True


def ensure_postgres(port: int, run_dir: Path) -> bool:
    """PostgreSQL (trust auth, user ``postgres``) on 127.0.0.1:``port``; True if this call started it.

    As root, initdb and postgres run as the ``postgres`` system user (PostgreSQL refuses root).
    """
    if port_open(port):
        return False
    initdb, postgres = _pg_binary("initdb"), _pg_binary("postgres")
    as_user: list[str] = []
    data = (run_dir / "pgdata").resolve()
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise ServiceError(
                "PostgreSQL cannot run as root and there is no 'postgres' user to run it as."
            ) from None
        as_user = ["runuser", "-u", "postgres", "--"]
        data.mkdir(parents=True, exist_ok=True)
        for path in (run_dir.resolve(), data):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    if not (data / "PG_VERSION").exists():
        subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
                       check=True, capture_output=True)  # fmt: skip
    command = [*as_user, postgres, "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(data)]
    process = spawn("postgres", command, dict(os.environ), run_dir)
    wait_port(port, 60, process, "postgres")
    return True


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if found is None:
        raise ServiceError(
            f"PostgreSQL is not running and {name} is not installed (apt-get install postgresql)."
        )
    return str(found)


def reset_database(admin_url: str, name: str) -> None:
    """Drop and create database ``name`` (a fresh cluster starts from an empty task store)."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def flush_redis_db(port: int, db: int) -> None:
    """Empty one Redis database (the cluster's broker and limits), leaving the others alone."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, db=db)
    try:
        client.flushdb()
    finally:
        client.close()
