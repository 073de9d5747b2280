"""Redis (broker and rate-limit counts) killed and restarted under load, on a private redis-server
(the machine's shared one keeps running): workers reconnect, no accepted task is lost (the row is
the truth; wake-ups lost with Redis are re-announced), and submits meanwhile get 503 + Retry-After."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.distributed.cluster import Cluster, free_port, photo_jpeg, submit
from tests.distributed.conftest import new_account
from tests.distributed.rows import output_files, wait_all_final

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.timeout(170)]


class PrivateRedis:
    """A redis-server of this test on a free port, without persistence (a restart empties it)."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (apt-get install redis-server)"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "no"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.RedisError:
                assert time.monotonic() < deadline, "the private redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path: Path, services_up: None) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis.log")
    server.start()
    yield server
    server.kill()


def test_work_survives_a_redis_restart_under_load(
    make_cluster: Callable[[str], Cluster], private_redis: PrivateRedis, pg_url: str
) -> None:
    cluster = make_cluster(private_redis.url)
    api, worker = cluster.api("api-1"), cluster.worker("worker-1")
    cluster.wait_ready(api, worker)
    api_key = new_account(pg_url, cluster.data_dir, "steady", qps=1000, concurrency=2)
    image = photo_jpeg(256)
    accepted: list[str] = []
    unavailable: list[httpx.Response] = []
    stop = threading.Event()

    # 1. load: a client submits every 0.15 s (faster than one worker runs them: a backlog of
    # wake-ups waits in Redis)
    def load() -> None:
        while not stop.is_set():
            response = submit(api.base or "", api_key, image, timeout=15)
            if response.status_code == 202:
                accepted.append(response.json()["id"])
            else:
                assert response.status_code == 503, response.text
                unavailable.append(response)
            stop.wait(0.15)

    client = threading.Thread(target=load)
    client.start()
    try:
        deadline = time.monotonic() + 30
        while len(accepted) < 6:
            assert time.monotonic() < deadline and client.is_alive(), "submits did not get through"
            time.sleep(0.05)
        # 2. Redis dies with its queued wake-ups, stays away for 2 s, comes back empty
        private_redis.kill()
        time.sleep(2.0)
        private_redis.start()
        # 3. submits get through again
        deadline = time.monotonic() + 30
        before = len(accepted)
        while len(accepted) < before + 3:
            assert time.monotonic() < deadline and client.is_alive(), "submits did not recover"
            time.sleep(0.05)
    finally:
        stop.set()
        client.join(20)
    assert unavailable, "no submit reached the API while Redis was down"
    assert all(int(r.headers["Retry-After"]) >= 1 for r in unavailable)
    assert worker.alive()

    # 4. every accepted task ends, once; nothing else was created
    rows = wait_all_final(pg_url, len(accepted), timeout=100)
    assert sorted(row.id for row in rows) == sorted(accepted)
    assert all(row.status == "SUCCEEDED" for row in rows), [(r.status, r.error_code) for r in rows]
    assert all(len(files) == 1 for files in output_files(cluster.data_dir, rows).values())
