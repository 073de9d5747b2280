"""PostgreSQL out of reach (a TCP proxy between the processes and the machine's PostgreSQL is cut):
the API answers 503 with Retry-After, then serves again once it is back, and work resumes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.distributed.cluster import Cluster, photo_jpeg, submit
from tests.distributed.conftest import new_account
from tests.distributed.tcpproxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.timeout(150)]


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    tcp = TcpProxy(("127.0.0.1", 5432))
    yield tcp
    tcp.close()


def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_api_answers_503_while_the_database_is_away_and_recovers(
    make_cluster: Callable[[str], Cluster], shared_redis_url: str, pg_url: str, proxy: TcpProxy
) -> None:
    through_proxy = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert through_proxy != pg_url
    cluster = make_cluster(shared_redis_url)
    cluster.env["RESTYLE_TASKS__DATABASE_URL"] = through_proxy  # API and worker both reach PG through it
    cluster.env["RESTYLE_TASKS__POOL_TIMEOUT_SECONDS"] = "2"
    api, worker = cluster.api("api-1"), cluster.worker("worker-1")
    cluster.wait_ready(api, worker)
    base = api.base or ""
    api_key = new_account(pg_url, cluster.data_dir, "steady", qps=100, concurrency=2)
    auth = {"Authorization": f"Bearer {api_key}"}
    image = photo_jpeg(256)
    first = submit(base, api_key, image)
    assert first.status_code == 202
    task_url = f"{base}/v1/tasks/{first.json()['id']}"

    # 1. the database goes away: reads, submits and readiness answer 503 with Retry-After, quickly
    proxy.cut()
    started = time.monotonic()
    for response in (
        httpx.get(task_url, headers=auth, timeout=15),
        submit(base, api_key, image, timeout=15),
    ):
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["error"]["code"] == "service.unavailable"
    assert httpx.get(f"{base}/readyz", timeout=15).status_code == 503
    assert time.monotonic() - started < 30
    assert api.alive() and worker.alive()

    # 2. it comes back: the same process answers again, and new work runs to the end
    proxy.restore()
    _until(lambda: httpx.get(task_url, headers=auth, timeout=15).status_code == 200, 30, "the API did not recover")
    again = submit(base, api_key, image)
    assert again.status_code == 202, again.text
    for url in (f"{base}/v1/tasks/{again.json()['id']}", task_url):
        _until(
            lambda url=url: httpx.get(url, headers=auth, timeout=15).json()["status"] == "SUCCEEDED",
            45,
            f"{url} did not finish after the database came back",
        )
