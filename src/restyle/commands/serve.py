"""``restyle serve``: the HTTP API with its in-process worker pool."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from restyle.config import Settings

ConfigOption = Annotated[Path | None, typer.Option("--config", help="YAML or JSON settings file.")]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Folder of the database, files and server key.")
]


def load_settings(config: Path | None, data_dir: Path | None, **sections: dict[str, Any]) -> Settings:
    """Settings from the file, the environment, then the command line options that were given."""
    overrides: dict[str, Any] = {name: values for name, values in sections.items() if values}
    if data_dir is not None:
        overrides["data_dir"] = str(data_dir)
    return Settings.load(config, **overrides)


def serve_command(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    data_dir: DataDirOption = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: one per core).")] = None,
    config: ConfigOption = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
    no_workers: Annotated[
        bool, typer.Option("--no-workers", help="API only: tasks wait for workers started elsewhere.")
    ] = False,
) -> None:
    """Serve the API on HOST:PORT with a pool of worker processes."""
    import uvicorn

    from restyle.api import create_app
    from restyle.api.services import bootstrap_demo, build_services

    server: dict[str, Any] = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    worker_options: dict[str, Any] = {"count": workers} if workers else {}
    if no_workers and Settings.load(config).workers.queue == "local":
        worker_options["queue"] = "none"  # no pool here: tasks wait in the store for other processes' pools
    settings = load_settings(config, data_dir, server=server, workers=worker_options)
    logging.basicConfig(
        level=settings.server.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    services = build_services(settings)
    credentials = bootstrap_demo(services)
    if credentials is not None:
        typer.echo(
            "Created the demo account (shown once; keep it):\n"
            f"  API key:           {credentials.api_key}\n"
            f"  access key id:     {credentials.access_key_id}\n"
            f"  secret access key: {credentials.secret_access_key}\n"
            f"  try: curl -H 'Authorization: Bearer {credentials.api_key}' "
            f"-F image=@photo.jpg -F style=anime {settings.public_url}/v1/tasks"
        )
    key_hint = (
        "the API key above"
        if credentials is not None
        else "an API key (the demo key was shown at the first start; 'restyle keys create' makes another)"
    )
    typer.echo(f"Open the web studio: {settings.public_url}/  and sign in with {key_hint}")
    typer.echo(
        f"restyle serving on http://{settings.server.host}:{settings.server.port} (docs at /docs), "
        f"{settings.worker_count if settings.workers.queue == 'local' else 0} worker(s) "
        f"(queue {settings.workers.queue}), "
        f"data in {settings.data_dir}"
    )
    uvicorn.run(
        create_app(services=services, start_workers=not no_workers),
        host=settings.server.host,
        port=settings.server.port,
        log_level=settings.server.log_level,
        access_log=access_log,
        timeout_graceful_shutdown=10,  # open event streams and waiting submits do not hold a stop up
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
