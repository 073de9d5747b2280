"""A server in trouble: a full queue (503) is ServerUnavailable and retried until there is room; a server
that dies while a client follows a task's events is polled (with retried connections) once it is back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from restyle.client import Client, Progress, ServerUnavailable, TaskFailed
from tests.api.test_serve_process import Server, free_port, wait_for
from tests.client.conftest import SERVER_ENV, create_key

pytestmark = pytest.mark.slow


@pytest.fixture
def full_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server that queues at most one task, and a paused account (its tasks stay PENDING)."""
    server = Server(tmp_path / "data", free_port(), env={**SERVER_ENV, "RESTYLE_LIMITS__MAX_PENDING": "1"})
    try:
        yield server.base, create_key(tmp_path / "data", "paused", "--qps", "50", "--concurrency", "0")
    finally:
        server.cleanup()


def test_a_full_queue_is_503_and_the_client_retries_until_there_is_room(
    full_server: tuple[str, str], portrait: np.ndarray
) -> None:
    url, key = full_server
    with Client(url, key, max_retries=0) as impatient:
        waiting = impatient.submit(portrait, "sketch")
        with pytest.raises(ServerUnavailable) as full:
            impatient.submit(portrait, "sketch")
    assert (full.value.status, full.value.code) == (503, "limit.queue_full")
    with Client(url, key, max_retries=6) as patient:
        threading.Timer(1.5, patient.cancel, args=(waiting["id"],)).start()  # room in the queue soon
        admitted = patient.submit(portrait, "sketch")
        assert admitted["status"] == "PENDING"
        ids = [t["id"] for t in patient.iter_tasks()]
        assert sorted(ids) == sorted([waiting["id"], admitted["id"]])  # the retries made one task, not several


def test_a_wait_outlives_a_server_restart_by_falling_back_to_polling(tmp_path: Path, portrait: np.ndarray) -> None:
    data_dir, port = tmp_path / "data", free_port()
    servers = [Server(data_dir, port, env=SERVER_ENV)]
    try:
        key = create_key(data_dir, "paused", "--qps", "50", "--concurrency", "0")
        with Client(servers[0].base, key, max_retries=10) as client:
            task = client.submit(portrait, "sketch")
            reports: list[Progress] = []
            outcome: list[BaseException] = []

            def follow() -> None:
                try:
                    client.wait(task["id"], timeout=240, progress=reports.append)
                except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                    outcome.append(exc)

            waiter = threading.Thread(target=follow)
            waiter.start()
            wait_for(lambda: reports)  # the events stream is open: it reported the task queued
            servers[0].kill_hard()  # the stream breaks mid-way
            servers.append(Server(data_dir, port, env=SERVER_ENV))
            Client(servers[1].base, key).cancel(task["id"])
            waiter.join(240)
        assert not waiter.is_alive()
        [failed] = outcome
        assert isinstance(failed, TaskFailed) and failed.task_status == "CANCELED"
        assert reports[0].status == "PENDING" and reports[0].queue_position is not None
    finally:
        for server in servers:
            server.cleanup()
