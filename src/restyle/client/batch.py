"""Many restyles on one server at once, outcomes in the order they were asked for (so that output names
and printed lines do not depend on which task happened to finish first)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from restyle.client.aio import AsyncClient
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
) -> AsyncIterator[tuple[int, Result | RestyleError]]:
    """``(index, Result or error)`` for every job, in job order, running up to ``parallel`` at a time.

    A job given as an error (an input that could not be read) comes back as that error in its place;
    ``progress(index, report)`` follows every running job."""
    gate = asyncio.Semaphore(max(1, parallel))

    async def one(index: int, job: Job) -> Result | RestyleError:
        def report(update: Progress) -> None:
            if progress is not None:
                progress(index, update)

        async with gate:
            try:
                return await client.restyle(job.image, style_image=job.style_image, progress=report, **job.params)
            except ClientError as exc:
                return exc

    running = [
        asyncio.ensure_future(one(index, job)) if isinstance(job, Job) else None for index, job in enumerate(jobs)
    ]
    try:
        for index, (job, future) in enumerate(zip(jobs, running, strict=True)):
            if future is not None:
                yield index, await future
            elif isinstance(job, RestyleError):
                yield index, job
    finally:
        for future in running:
            if future is not None and not future.done():
                future.cancel()
