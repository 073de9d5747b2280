"""Two API processes on one PostgreSQL and one Redis enforce one account's limits together: its
submit rate (counted in Redis) and its concurrency (counted in the task store when workers claim)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations

import pytest

from tests.distributed.cluster import Cluster, photo_jpeg, submit
from tests.distributed.conftest import new_account
from tests.distributed.rows import wait_all_final

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.timeout(150)]


def test_two_api_processes_share_one_accounts_rate_and_concurrency(
    make_cluster: Callable[[str], Cluster], shared_redis_url: str, pg_url: str
) -> None:
    cluster = make_cluster(shared_redis_url)
    apis = [cluster.api("api-1"), cluster.api("api-2")]
    workers = [cluster.worker("worker-1"), cluster.worker("worker-2")]
    cluster.wait_ready(*apis, *workers)
    bases = [api.base or "" for api in apis]
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
