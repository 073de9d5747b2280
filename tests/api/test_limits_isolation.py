"""Per-account rate limits, the global queue bound, fairness and isolation between accounts."""

from __future__ import annotations

from tests.api.conftest import App, multipart
from tests.api.test_errors import assert_error


def test_submits_over_the_rate_get_429_with_retry_after(live: App, astronaut_png: bytes) -> None:
    caller = live.caller(qps=1, concurrency=0)
    assert (
        live.client.post("/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png)).status_code
        == 202
    )
    limited = live.client.post("/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png))
    assert_error(limited, 429, "limit.rate", "1 tasks per second", None)
    assert int(limited.headers["Retry-After"]) >= 1
    other = live.caller(qps=1, concurrency=0)  # another account is not affected
    assert (
        live.client.post("/v1/tasks?wait=0", headers=other.headers, **multipart(astronaut_png)).status_code
        == 202
    )


def test_a_full_queue_answers_503(idle: App, astronaut_png: bytes) -> None:
    caller = idle.caller()
    for _ in range(2):
        assert (
            idle.client.post(
                "/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png)
            ).status_code
            == 202
        )
    full = idle.client.post("/v1/tasks?wait=0", headers=caller.headers, **multipart(astronaut_png))
    assert_error(full, 503, "limit.queue_full", "queue is full (2 waiting tasks)", None)
    ready = idle.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["engine"] is False


def test_one_busy_account_does_not_starve_another(idle: App, astronaut_png: bytes) -> None:
    from restyle.tasks import lease

    idle.services.settings.limits.max_pending = 100
    busy, other = idle.caller(), idle.caller()
    busy_ids = [
        idle.client.post("/v1/tasks?wait=0", headers=busy.headers, **multipart(astronaut_png)).json()["id"]
        for _ in range(3)
    ]
    other_id = idle.client.post("/v1/tasks?wait=0", headers=other.headers, **multipart(astronaut_png)).json()[
        "id"
    ]
    db = idle.services.db
    first, second = lease.claim(db, "w1", 30), lease.claim(db, "w2", 30)
    assert first is not None and second is not None
    assert [first.task.id, second.task.id] == [busy_ids[0], other_id]
    assert lease.claim(db, "w3", 30) is None


def test_accounts_never_see_each_others_tasks_or_files(live: App, astronaut_png: bytes) -> None:
    alice, mallory = live.caller(), live.caller()
    task = live.client.post(
        "/v1/tasks", headers=alice.headers, **multipart(astronaut_png, style="sketch")
    ).json()
    assert task["status"] == "SUCCEEDED"
    for method, path in (
        ("GET", f"/v1/tasks/{task['id']}"),
        ("GET", f"/v1/tasks/{task['id']}/events"),
        ("POST", f"/v1/tasks/{task['id']}/cancel"),
        ("DELETE", f"/v1/tasks/{task['id']}"),
    ):
        foreign = live.client.request(method, path, headers=mallory.headers)
        missing = live.client.request(method, path.replace(task["id"], "0" * 36), headers=mallory.headers)
        assert foreign.status_code == missing.status_code == 404
        assert (
            foreign.json()["error"]["message"].replace(task["id"], "0" * 36)
            == missing.json()["error"]["message"]
        )
    assert live.client.get("/v1/tasks", headers=mallory.headers).json()["data"] == []
    # a link signed for mallory's own key does not open alice's file
    key = task["result"]["images"][0]["key"]
    own_link = live.services.signer.url("http://testserver", f"tasks/{mallory.account.id}/x/output/1-0.png")
    stolen = own_link.replace(f"tasks/{mallory.account.id}/x/output/1-0.png", key)
    assert_error(live.client.get(stolen), 403, "url.invalid_signature", "not valid", None)
    assert live.client.get(f"/v1/tasks/{task['id']}", headers=alice.headers).json()["status"] == "SUCCEEDED"
