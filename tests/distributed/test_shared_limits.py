"""Two API processes (``restyle serve --no-workers``) and two Celery workers on one PostgreSQL and
one Redis: one account's limits hold across both API processes (its submit rate counted in Redis,
its concurrency in the task store when workers claim), and waits, events, cancels and webhooks
work whichever process a call reaches (one webhook delivery, by the upkeep leader)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import combinations

import httpx
import pytest

from tests.distributed.cluster import Cluster, photo_jpeg, submit
from tests.distributed.conftest import (
    REDIS_DB,
    REDIS_HOST,
    REDIS_PORT,
    fresh_database,
    new_account,
    new_cluster,
)
from tests.distributed.rows import wait_all_final

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.timeout(150)]


@dataclass
class TwoApis:
    cluster: Cluster
    pg_url: str
    bases: list[str]


@pytest.fixture(scope="module")
def two_apis(services_up: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoApis]:
    with fresh_database() as pg_url:
        data_dir = tmp_path_factory.mktemp("two-apis") / "data"
        cluster = new_cluster(data_dir, pg_url, f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}")
        cluster.env["RESTYLE_IMAGES__FETCH_ALLOW"] = "127.0.0.1"  # the test's webhook receiver
        try:
            apis = [cluster.api("api-1"), cluster.api("api-2")]
            workers = [cluster.worker("worker-1"), cluster.worker("worker-2")]
            cluster.wait_ready(*apis, *workers)
            yield TwoApis(cluster, pg_url, [api.base or "" for api in apis])
        finally:
            cluster.close()


def test_two_api_processes_share_one_accounts_rate_and_concurrency(two_apis: TwoApis) -> None:
    cluster, pg_url, bases = two_apis.cluster, two_apis.pg_url, two_apis.bases
    image = photo_jpeg(256)

    # 1. rate: 0.1 submits per second is 1 per 10 s; 8 submits spread over both processes at once
    # (each process alone would let one through, so 2 would pass without the shared count)
    slow = new_account(pg_url, cluster.data_dir, "slow", qps=0.1, concurrency=4)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: submit(bases[i % 2], slow, image), range(8)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [202] + [429] * 7, [a.text for a in answers]
    refused = [a for a in answers if a.status_code == 429]
    assert {a.request.url.port for a in refused} == {int(b.rsplit(":", 1)[1]) for b in bases}
    assert all(int(a.headers["Retry-After"]) >= 1 for a in refused)
    assert all(a.json()["error"]["code"] == "limit.rate" for a in refused)

    # 2. concurrency: one task at a time for "single" although two workers run; "other" uses the
    # second worker meanwhile (so the one-at-a-time is the limit, not a lack of workers)
    single = new_account(pg_url, cluster.data_dir, "single", qps=100, concurrency=1)
    other = new_account(pg_url, cluster.data_dir, "other", qps=100, concurrency=1)
    for i in range(4):
        assert submit(bases[i % 2], single, image).status_code == 202
    for i in range(2):
        assert submit(bases[i % 2], other, image).status_code == 202
    rows = wait_all_final(pg_url, 1 + 4 + 2, timeout=90)
    assert all(row.status == "SUCCEEDED" for row in rows), [(r.status, r.error_code) for r in rows]
    by_account: dict[str, list[tuple[float, float]]] = {}
    names = {row.account_id for row in rows}
    assert len(names) == 3
    for row in rows:
        assert row.started_at is not None and row.finished_at is not None
        span = (row.started_at.timestamp(), row.finished_at.timestamp())
        by_account.setdefault(row.account_id, []).append(span)
    spans = sorted(by_account.values(), key=len)
    single_spans, other_spans = spans[-1], spans[1]
    assert len(single_spans) == 4 and len(other_spans) == 2
    for (start_a, end_a), (start_b, end_b) in combinations(single_spans, 2):
        assert end_a <= start_b or end_b <= start_a, "two tasks of a concurrency-1 account overlapped"
    overlaps = [
        (s, o) for s in single_spans for o in other_spans if s[0] < o[1] and o[0] < s[1]
    ]
    assert overlaps, "the second worker never ran another account's task beside the limited one"


class Hooks(BaseHTTPRequestHandler):
    """Records every webhook delivery it receives."""

    received: list[dict[str, object]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Hooks.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def _events(base: str, api_key: str, task_id: str) -> list[tuple[str, dict[str, object]]]:
    """The server-sent events of a task until its final one."""
    found: list[tuple[str, dict[str, object]]] = []
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.stream("GET", f"{base}/v1/tasks/{task_id}/events", headers=headers, timeout=60) as stream:
        name = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                found.append((name, json.loads(line[len("data: ") :])))
    return found


def test_waits_events_cancels_and_webhooks_work_through_either_process(two_apis: TwoApis) -> None:
    cluster, bases = two_apis.cluster, two_apis.bases
    image = photo_jpeg(256)
    api_key = new_account(two_apis.pg_url, cluster.data_dir, "anywhere", qps=100, concurrency=2)
    auth = {"Authorization": f"Bearer {api_key}"}
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    try:
        # 1. submitted on api-1, followed on api-2: the worker's steps reach api-2 (PostgreSQL NOTIFY)
        task = submit(bases[0], api_key, image, callback_url=hook_url).json()
        events = _events(bases[1], api_key, task["id"])
        names = [name for name, _ in events]
        assert names[-1] == "succeeded", names
        assert "step" in names, f"no step event crossed from the worker to the other API process: {names}"
        # 2. a submit that waits on api-2 gets its result there
        headers = {**auth, "Prefer": "wait=30"}
        files = {"image": ("photo.jpg", image, "image/jpeg")}
        waited = httpx.post(f"{bases[1]}/v1/tasks", headers=headers, data={"style": "sketch"}, files=files, timeout=40)
        assert waited.json()["status"] == "SUCCEEDED", waited.text
        # 3. a task waiting behind a paused account, canceled through api-1 while api-2 follows it
        paused = new_account(two_apis.pg_url, cluster.data_dir, "paused", qps=100, concurrency=0)
        held = submit(bases[1], paused, image).json()
        with ThreadPoolExecutor(1) as pool:
            following = pool.submit(_events, bases[1], paused, held["id"])
            time.sleep(0.5)
            canceled = httpx.post(
                f"{bases[0]}/v1/tasks/{held['id']}/cancel", headers={"Authorization": f"Bearer {paused}"}, timeout=10
            )
            assert canceled.json()["status"] == "CANCELED", canceled.text
            assert following.result(30)[-1][0] == "canceled"
        # 4. the webhook of task 1 was delivered exactly once although two API processes run upkeep
        time.sleep(3.0)  # a second delivery, if there were one, would come within a poll or two
        deliveries = [hook for hook in Hooks.received if hook.get("id") == task["id"]]
        assert len(deliveries) == 1, deliveries
        assert deliveries[0]["status"] == "SUCCEEDED"
    finally:
        receiver.shutdown()
