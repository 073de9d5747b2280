"""``restyle inspect IMAGE [--json]``: every AI-content label in an image file.

Exit codes: 0 a label was found (and any C2PA manifest validates), 1 no label at all, 2 the file cannot
be read or decoded, 3 a C2PA manifest is present but fails validation (tampered or broken).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def inspect_command(
    image: Annotated[Path, typer.Argument(help="Image file to inspect (PNG, JPEG, WebP, ...).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    task_id: Annotated[
        str | None,
        typer.Option("--task-id", help="Also say whether the watermark and ProduceID match this task."),
    ] = None,
    c2pa_trust: Annotated[
        Path | None, typer.Option("--c2pa-trust", help="PEM file of C2PA trust anchors (CA certificates).")
    ] = None,
    font: Annotated[
        Path | None,
        typer.Option(
            "--font", help="Font file of the visible label (default: labels.font_path, fontconfig)."
        ),
    ] = None,
) -> None:
    """Report the visible label, the TC260 XMP label, the invisible watermark and the C2PA manifest of IMAGE.

    Exit codes: 0 labelled, 1 no label, 2 unreadable file, 3 C2PA manifest present but invalid.
    """
    from restyle.errors import RestyleError
    from restyle.labels.inspect import EXIT_ERROR, describe, inspect_bytes

    try:
        data = image.read_bytes()
    except OSError as exc:
        typer.echo(f"error: {image} cannot be read: {exc.strerror}.", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    try:
        report = inspect_bytes(
            data, task_id=task_id, trust_anchors=c2pa_trust, font_path=font or _font_setting()
        )
    except RestyleError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    if as_json:
        typer.echo(json.dumps({"file": str(image), **report.to_dict()}, ensure_ascii=False, indent=2))
    else:
        typer.echo(f"file: {image}")
        for line in describe(report):
            typer.echo(line)
    raise typer.Exit(report.exit_code)


def _font_setting() -> Path | None:
    """``labels.font_path`` from the settings, when they load (inspect works without any settings)."""
    from restyle.config import Settings
    from restyle.errors import ConfigurationError

    try:
        return Settings.load().labels.font_path
    except ConfigurationError:
        return None


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect_command)
