"""``restyle worker``: a stand-alone worker for a Celery queue (arrives with the scale-out issue)."""

from __future__ import annotations

import typer


def worker_command() -> None:
    """Run a stand-alone worker (not yet: restyle serve runs its own worker pool)."""
    typer.echo(
        "Stand-alone Celery workers arrive with the scale-out issue; until then 'restyle serve' runs "
        "an in-process worker pool (set RESTYLE_WORKERS__COUNT or --workers).",
        err=True,
    )
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)
