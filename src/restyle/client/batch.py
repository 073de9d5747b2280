"""Many restyles on one server at once, outcomes in the order they were asked for (so that output names
and printed lines do not depend on which task happened to finish first)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from restyle.client.aio import AsyncClient
from restyle.client.core import is_final
from restyle.client.errors import ClientError
from restyle.client.models import Progress, Result
from restyle.errors import RestyleError


@dataclass
class Job:
    """One :meth:`AsyncClient.restyle` call: the image, the style image and the API parameters."""

    image: Any
    style_image: Any = None
    params: dict[str, Any] = field(default_factory=dict)


async def restyle_in_order(
    client: AsyncClient,
    jobs: Sequence[Job | RestyleError],
    parallel: int,
    progress: Callable[[int, Progress], Any] | None = None,
) -> AsyncGenerator[tuple[int, Result | RestyleError], None]:
    """``(index, Result or error)`` for every job, in job order, running up to ``parallel`` at a time.

    A job given as an error (an input that could not be read) comes back as that error in its place;
    ``progress(index, report)`` follows every running job. Stopping the iteration early (or cancelling
    it) cancels the tasks already submitted on the server."""
    gate = asyncio.Semaphore(max(1, parallel))

    async def one(index: int, job: Job) -> Result | RestyleError:
        def report(update: Progress) -> None:
            if progress is not None:
                progress(index, update)

        async with gate:
            task_id = None
            try:
                task = await client.submit(job.image, style_image=job.style_image, **job.params)
                task_id = task["id"]
                if not is_final(task):
                    task = await client.wait(task_id, progress=report)
                return await client.result(task)
            except ClientError as exc:
                return exc
            except asyncio.CancelledError:  # the caller gave up (Ctrl-C): so does the server
                if task_id is not None:
                    with contextlib.suppress(ClientError):
                        await client.cancel(task_id)
                raise

    running = [
        asyncio.ensure_future(one(index, job)) if isinstance(job, Job) else None for index, job in enumerate(jobs)
    ]
    try:
        for index, (job, future) in enumerate(zip(jobs, running, strict=True)):
            if future is not None:
                yield index, await future
            elif isinstance(job, RestyleError):
                yield index, job
    finally:  # stop the rest, and let each cancel its server task while the client is still open
        left = [future for future in running if future is not None and not future.done()]
        for future in left:
            future.cancel()
        await asyncio.gather(*left, return_exceptions=True)
