"""LocalStorage.put_if_absent: one atomic create-if-absent, so two writers racing for a name cannot
both win (threads and separate processes), and the loser's bytes never reach the file."""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.synchronize import Barrier as ProcessBarrier
from pathlib import Path

from restyle.storage.local import LocalStorage

ROUNDS = 40


def test_creates_once_and_never_replaces(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    assert storage.put_if_absent("a/b.png", b"first")
    assert not storage.put_if_absent("a/b.png", b"second")
    assert storage.get("a/b.png") == b"first"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.png"]  # no temp file left by either call
    storage.delete("a/b.png")
    assert storage.put_if_absent("a/b.png", b"third") and storage.get("a/b.png") == b"third"


def test_threads_racing_for_one_name_have_one_winner(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    for round_no in range(ROUNDS):
        key = f"race/{round_no}"
        barrier = threading.Barrier(4)
        wins: list[bytes] = []

        def write(
            payload: bytes, key: str = key, barrier: threading.Barrier = barrier, wins: list[bytes] = wins
        ) -> None:
            barrier.wait()
            if storage.put_if_absent(key, payload):
                wins.append(payload)

        threads = [threading.Thread(target=write, args=(bytes([n]) * 100_000,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(wins) == 1, (round_no, len(wins))
        assert storage.get(key) == wins[0]  # the winner's bytes, whole
    assert sorted(p.name for p in (tmp_path / "race").iterdir()) == sorted(str(n) for n in range(ROUNDS))


def _writer(root: str, key: str, payload: bytes, barrier: ProcessBarrier, won: multiprocessing.Queue) -> None:
    storage = LocalStorage(root)
    barrier.wait()
    won.put((payload[:1], storage.put_if_absent(key, payload)))


def test_processes_racing_for_one_name_have_one_winner(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    for round_no in range(3):
        key = f"procs/{round_no}.bin"
        barrier = context.Barrier(2)
        won: multiprocessing.Queue = context.Queue()
        payloads = [b"A" * 2_000_000, b"B" * 2_000_000]
        workers = [
            context.Process(target=_writer, args=(str(tmp_path), key, payload, barrier, won))
            for payload in payloads
        ]
        for worker in workers:
            worker.start()
        results = [won.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0
        winners = [tag for tag, created in results if created]
        assert len(winners) == 1, results
        assert LocalStorage(tmp_path).get(key) == winners[0] * 2_000_000
