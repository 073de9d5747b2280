"""kill -9 an API process while submits are in flight: every task it accepted ends, none is doubled,
and a submit retried on the other API process with its Idempotency-Key returns the same task."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.distributed.cluster import Cluster, photo_jpeg, submit
from tests.distributed.conftest import new_account
from tests.distributed.rows import wait_all_final

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.timeout(150)]

KEYS = 10


def test_tasks_survive_an_api_kill_and_retries_find_them(
    make_cluster: Callable[[str], Cluster], shared_redis_url: str, pg_url: str
) -> None:
    cluster = make_cluster(shared_redis_url)
    doomed, spare = cluster.api("api-1"), cluster.api("api-2")
    worker = cluster.worker("worker-1", concurrency=2)
    cluster.wait_ready(doomed, spare, worker)
    api_key = new_account(pg_url, cluster.data_dir, "client", qps=1000, concurrency=2)
    image = photo_jpeg(256)
    accepted: dict[str, str] = {}  # Idempotency-Key -> task id, from the doomed process
    lock = threading.Lock()

    # 1. clients submit to api-1, each with its own Idempotency-Key; it dies under them
    def first_try(index: int) -> None:
        key = f"order-{index}"
        try:
            response = submit(doomed.base or "", api_key, image, key=key, timeout=5)
        except httpx.HTTPError:
            return  # in flight when the process died: the client will retry
        if response.status_code == 202:
            with lock:
                accepted[key] = response.json()["id"]

    def killer() -> None:
        deadline = time.monotonic() + 30
        while len(accepted) < KEYS // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        doomed.kill_hard()

    kill_thread = threading.Thread(target=killer)
    kill_thread.start()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(first_try, range(KEYS)))
    kill_thread.join()
    assert not doomed.alive()
    assert 0 < len(accepted) < KEYS, "the kill should land while submits are still coming"

    # 2. every client retries on api-2 with the same key (also those that got their 202)
    retried: dict[str, str] = {}
    for index in range(KEYS):
        key = f"order-{index}"
        response = submit(spare.base or "", api_key, image, key=key)
        assert response.status_code in (200, 201, 202), response.text
        retried[key] = response.json()["id"]
    for key, task_id in accepted.items():
        assert retried[key] == task_id, f"{key}: the retry made a second task"

    # 3. one task per key, and every one of them ends (wake-ups lost with api-1 are re-announced)
    rows = wait_all_final(pg_url, KEYS, timeout=90)
    assert len(rows) == KEYS
    assert sorted(row.idempotency_key or "" for row in rows) == sorted(retried)
    assert {row.id for row in rows} == set(retried.values())
    assert all(row.status == "SUCCEEDED" for row in rows), [(r.status, r.error_code) for r in rows]
    assert all(len(row.result_keys) == 1 for row in rows)
