"""``AsyncClient`` against the real server: concurrent restyles with async progress callbacks, the
task methods, errors, and the ordered batch runner behind ``restyle run --server``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import numpy as np
import pytest

from restyle.client import ApiError, AsyncClient, AuthenticationError, NotFound, Progress, Result, TaskFailed
from restyle.client.batch import Job, restyle_in_order
from restyle.errors import RestyleError
from tests.client.conftest import LiveServer

pytestmark = pytest.mark.slow


def test_two_restyles_at_once_with_async_progress(live: LiveServer, portrait: np.ndarray) -> None:
    seen: dict[str, list[Progress]] = {}

    async def main() -> list[float | None]:
        async def record(report: Progress) -> None:
            await asyncio.sleep(0)
            seen.setdefault(report.task_id, []).append(report)

        async with AsyncClient(live.url, live.keys["main"]) as client:
            results = await asyncio.gather(
                client.restyle(portrait, "sketch", seed=1, progress=record),
                client.restyle(portrait, "anime", seed=2, progress=lambda r: seen.setdefault("sync", []).append(r)),
            )
            assert [r.style for r in results] == ["sketch", "anime"]
            assert all(r.image.size == (256, 256) for r in results)
            return [r.identity_distance for r in results]

    distances = asyncio.run(main())
    assert all(d is not None and d < 0.6 for d in distances)
    assert len(seen) == 2 and all(any(r.step == "engine" for r in reports) for reports in seen.values())


def test_async_task_methods_and_errors(live: LiveServer, portrait: np.ndarray, tmp_path: Path) -> None:
    async def main() -> None:
        async with AsyncClient(live.url, live.keys["paused"]) as paused:
            task = await paused.submit(portrait, "sketch")
            assert (await paused.get(task["id"]))["status"] == "PENDING"
            page = await paused.list(limit=100)
            assert task["id"] in [t["id"] for t in page.data]
            assert task["id"] in [t["id"] async for t in paused.iter_tasks(page_size=1)]
            assert (await paused.cancel(task["id"]))["status"] == "CANCELED"
            with pytest.raises(TaskFailed):
                await paused.wait(task["id"], timeout=10)
            await paused.delete(task["id"])
            with pytest.raises(NotFound):
                await paused.get(task["id"])
            assert {"sketch"} <= {s["name"] for s in await paused.styles()}
            assert (await paused.account())["concurrency"] == 0
            with pytest.raises(ApiError) as bad:
                await paused.submit(portrait, "sketch", strength="strong")
            assert bad.value.param == "strength"
        async with AsyncClient(live.url, "rsk_wrong") as stranger:
            with pytest.raises(AuthenticationError):
                await stranger.list()
        async with AsyncClient(live.url, live.keys["main"], events=False) as polling:
            result = await polling.restyle(portrait, "sketch")
            assert result.save(tmp_path / "out.png").stat().st_size == len(result.data)

    asyncio.run(main())


def test_batch_outcomes_come_in_job_order(live: LiveServer, portrait: np.ndarray) -> None:
    async def main() -> list[tuple[int, Result | RestyleError]]:
        jobs: list[Job | RestyleError] = [
            Job(cv2.resize(portrait, (384, 384)), params={"style": "sketch"}),
            RestyleError("unreadable", code="input.missing"),
            Job(portrait, params={"style": "sketch", "hd": 3}),
            Job(portrait, params={"style": "sketch"}),
        ]
        async with AsyncClient(live.url, live.keys["main"]) as client:
            return [(index, outcome) async for index, outcome in restyle_in_order(client, jobs, 2)]

    outcomes = asyncio.run(main())
    assert [index for index, _ in outcomes] == [0, 1, 2, 3]
    first, unreadable, bad, last = (outcome for _, outcome in outcomes)
    assert isinstance(first, Result) and first.image.size == (384, 384)
    assert isinstance(unreadable, RestyleError) and unreadable.code == "input.missing"
    assert isinstance(bad, ApiError) and bad.param == "hd"
    assert isinstance(last, Result) and last.image.size == (256, 256)


def test_stopping_a_batch_cancels_its_tasks_on_the_server(live: LiveServer, portrait: np.ndarray) -> None:
    async def main() -> set[str]:
        reported: dict[int, str] = {}
        both = asyncio.Event()

        def progress(index: int, report: Progress) -> None:
            reported[index] = report.task_id
            if len(reported) == 2:
                both.set()

        async with AsyncClient(live.url, live.keys["paused"]) as client:
            jobs: list[Job | RestyleError] = [Job(portrait, params={"style": "sketch"}) for _ in range(2)]

            async def consume() -> None:
                async for _ in restyle_in_order(client, jobs, 2, progress):
                    raise AssertionError("a paused account's task cannot finish")

            consumer = asyncio.ensure_future(consume())
            await asyncio.wait_for(both.wait(), 120)  # both submitted and PENDING
            consumer.cancel()  # what Ctrl-C does to `restyle run --server`
            with pytest.raises(asyncio.CancelledError):
                await consumer
            return {(await client.get(task_id))["status"] for task_id in reported.values()}

    assert asyncio.run(main()) == {"CANCELED"}
