"""kill -9 a Celery worker while it runs a task: the task finishes exactly once, on another worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from restyle.tasks.lease import host_identity
from tests.distributed.cluster import Cluster, photo_jpeg, submit
from tests.distributed.conftest import new_account
from tests.distributed.rows import all_tasks, output_files, wait_all_final

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.timeout(150)]


def test_a_task_whose_worker_is_killed_finishes_once_on_another(
    make_cluster: Callable[[str], Cluster], shared_redis_url: str, pg_url: str, tmp_path: Path
) -> None:
    cluster = make_cluster(shared_redis_url)
    api = cluster.api("api-1")
    first, second = cluster.worker("worker-1"), cluster.worker("worker-2")
    cluster.wait_ready(api, first, second)
    api_key = new_account(pg_url, cluster.data_dir, "victim", concurrency=2)
    # 1. a photo big enough that a task runs for a while; submit it and find who runs it
    image = photo_jpeg(640)
    response = submit(api.base or "", api_key, image)
    assert response.status_code == 202, response.text
    task_id = response.json()["id"]
    deadline = time.monotonic() + 30
    while True:
        row = next(r for r in all_tasks(pg_url) if r.id == task_id)
        if row.status == "RUNNING" and row.worker_id:
            break
        assert row.status == "PENDING", f"the task ended before it could be interrupted: {row.status}"
        assert time.monotonic() < deadline, "no worker took the task"
        time.sleep(0.02)
    holder_pid = int(row.worker_id.removeprefix(host_identity() + ":").split(":")[0])
    victim = first if holder_pid in first.pool_pids() else second
    survivor = second if victim is first else first
    assert holder_pid in victim.pool_pids()
    # 2. kill -9 the worker (its main process and pool) in the middle of the task
    victim.kill_hard()
    assert survivor.alive()
    # 3. the lease runs out, the upkeep leader puts the task back, the other worker finishes it
    rows = wait_all_final(pg_url, 1, timeout=60)
    (done,) = rows
    assert done.status == "SUCCEEDED", (done.error_code, done.error_message)
    assert done.attempts == 2
    survivor_pids = {str(pid) for pid in survivor.pool_pids()}
    assert done.worker_id and done.worker_id.split(":")[-2] in survivor_pids
    # exactly one result: one key on the row, one output file in storage (the second attempt's)
    assert len(done.result_keys) == 1 and done.result_keys[0].endswith("/output/2-0.png")
    assert output_files(cluster.data_dir, rows)[task_id] == ["2-0.png"]
    poll = response.json()
    assert poll["id"] == task_id
