"""``restyle run --server URL``: the same jobs as a local run, rendered by a restyle server.

Options, input reading, output names and report lines are those of :mod:`restyle.commands.run`; only
the rendering moves: each (input, style) becomes a task of the native API, up to ``parallel`` at once
(by default the account's concurrency limit from ``GET /v1/account``), with one progress bar per input.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from restyle.domain import ImageSource
from restyle.errors import RestyleError


class _Bars:
    """One rich progress bar per input (its styles' tasks together), on stderr; nothing with --json."""

    def __init__(self, inputs: list[str], per_input: int, enabled: bool) -> None:
        self._per_input, self._bar = per_input, None
        self._ids: list[Any] = [0] * len(inputs)
        self._done: dict[int, float] = {}  # job index -> fraction
        if enabled:
            from rich.console import Console
            from rich.progress import Progress

            self._bar = Progress(console=Console(stderr=True), transient=True)
            self._ids = [self._bar.add_task(path, total=per_input) for path in inputs]
            self._bar.start()

    def update(self, job: int, fraction: float) -> None:
        self._done[job] = fraction
        if self._bar is None:
            return
        first = job - job % self._per_input
        done = sum(self._done.get(index, 0.0) for index in range(first, first + self._per_input))
        self._bar.update(self._ids[job // self._per_input], completed=done)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


async def run_remote(
    server: str,
    key: str | None,
    parallel: int | None,
    inputs: list[str],
    style: str | None,
    every: bool,
    style_source: ImageSource | None,
    fields: dict[str, Any],
    out: Path,
    as_json: bool,
) -> tuple[int, int]:
    """Render every input and style on ``server``; (failed outputs, all outputs). Raises a RestyleError
    before anything runs when the server, the key or the style list cannot be had."""
    from restyle.client import AsyncClient
    from restyle.client.batch import Job, restyle_in_order
    from restyle.commands.run import _read_input, _report, _report_error, _unique_target, _write_atomically

    async with AsyncClient(server, key) as client:
        # 1. the key and the server answer, and say how many tasks the account may run at once
        account = await client.account()
        width = parallel or max(1, int(account.get("concurrency") or 1))
        styles: list[str | None] = [p["name"] for p in await client.styles()] if every else [style]
        # 2. one job per input and style; an unreadable input is an error in its place
        style_bytes = style_source.data if style_source is not None else None
        jobs: list[Job | RestyleError] = []
        stems: list[tuple[str, str]] = []
        for path in inputs:
            try:
                stem, data = _read_input(path)
                made: Job | RestyleError | None = None
            except RestyleError as exc:
                stem, data, made = path, b"", exc
            for job_style in styles:
                jobs.append(made or Job(data, style_bytes, {**fields, "style": job_style}))
                stems.append((path, stem))
        # 3. run, then write and report in job order (names never depend on which task finished first)
        bars = _Bars(inputs, len(styles), enabled=not as_json)
        failures = 0
        written: set[Path] = set()
        try:
            outcomes = restyle_in_order(client, jobs, width, lambda i, p: bars.update(i, p.progress))
            async with contextlib.aclosing(outcomes):  # Ctrl-C cancels the tasks on the server too
                async for index, outcome in outcomes:
                    path, stem = stems[index]
                    bars.update(index, 1.0)
                    if isinstance(outcome, RestyleError):
                        failures += 1
                        _report_error(path, outcome, as_json)
                        continue
                    target = _unique_target(out, stem, outcome.style or "styled", outcome.format, written)
                    try:
                        _write_atomically(target, outcome.data)
                    except RestyleError as exc:
                        failures += 1
                        _report_error(path, exc, as_json)
                        continue
                    _report(path, target, outcome.summary, as_json)
        finally:
            bars.stop()
    return failures, len(jobs)
