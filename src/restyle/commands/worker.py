"""``restyle worker``: a stand-alone Celery worker (``workers.queue = celery``) with the project's settings."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from restyle.commands.serve import ConfigOption, DataDirOption, load_settings


def worker_command(
    concurrency: Annotated[
        int | None, typer.Option(help="Worker processes (default: workers.count, or one per core).")
    ] = None,
    queues: Annotated[
        str | None,
        typer.Option(help="Engine kinds to take work for, comma-separated (default: the configured engine)."),
    ] = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Run a Celery worker: each process warms its pipeline once, then claims and runs tasks."""
    from restyle.errors import RestyleError
    from restyle.tasks.celery_queue import create_celery_app, queue_name
    from restyle.tasks.celery_worker import install
    from restyle.tasks.db import Database
    from restyle.tasks.worker import limit_threads

    settings = load_settings(config, data_dir, workers={"count": concurrency} if concurrency else {})
    if settings.workers.queue != "celery":
        typer.echo(
            "restyle worker runs Celery workers: set RESTYLE_WORKERS__QUEUE=celery and "
            "RESTYLE_WORKERS__BROKER_URL (e.g. redis://127.0.0.1:6379/1). With the default queue "
            "'local', 'restyle serve' runs its own worker pool.",
            err=True,
        )
        raise typer.Exit(2)
    logging.basicConfig(
        level=settings.server.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        app = create_celery_app(settings)
        db = Database.from_settings(settings)
        db.migrate()  # a worker may start before any API process (several at once is safe)
        db.dispose()  # each worker process opens its own after the fork
    except RestyleError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    install(app, settings)
    limit_threads(settings.workers.threads_per_worker)  # inherited by every worker process
    kinds = [kind.strip() for kind in (queues or settings.engine.name).split(",") if kind.strip()]
    names = ",".join(queue_name(settings, kind) for kind in kinds)
    typer.echo(f"restyle worker: {settings.worker_count} process(es) on queue(s) {names}", err=True)
    app.worker_main(
        [
            "worker",
            f"--concurrency={settings.worker_count}",
            f"--queues={names}",
            f"--loglevel={settings.server.log_level.upper()}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=restyle-{os.getpid()}@%h",
        ]
    )


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)
