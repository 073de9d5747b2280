"""503 from a real server whose queue is full: ServerUnavailable, and retried until the queue has room."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from restyle.client import Client, ServerUnavailable
from tests.api.test_serve_process import Server, free_port
from tests.client.conftest import create_key

pytestmark = pytest.mark.slow


@pytest.fixture
def full_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server that queues at most one task, and a paused account (its tasks stay PENDING)."""
    server = Server(tmp_path / "data", free_port(), env={"RESTYLE_LIMITS__MAX_PENDING": "1"})
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
