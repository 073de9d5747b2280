"""``restyle templates list|check``: the named processing templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

templates_app = typer.Typer(help="Named processing templates (name -> action string).", no_args_is_help=True)


@templates_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    templates_file: Annotated[
        Path | None, typer.Option("--templates-file", help="Templates file (default: images.templates_file).")
    ] = None,
) -> None:
    """List the templates: name and canonical action string."""
    from restyle.config import Settings
    from restyle.errors import RestyleError
    from restyle.imaging.templates import TemplateSet

    try:
        templates = TemplateSet.from_settings(templates_file or Settings.load().images.templates_file)
    except RestyleError as exc:
        typer.echo(f"restyle: {exc.message}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps({name: str(chain) for name, chain in templates.items()}, indent=2))
        return
    width = max((len(name) for name in templates), default=0)
    for name, chain in templates.items():
        print(f"{name:<{width}}  {chain}")


@templates_app.command("check")
def check_command(file: Annotated[Path, typer.Argument(help="The templates file (YAML or JSON).")]) -> None:
    """Parse every template of FILE: exit 0 when all parse, else 2 with one line per problem."""
    from restyle.imaging.templates import parse_file

    chains, problems = parse_file(file)
    for problem in problems:
        typer.echo(f"restyle: {problem}", err=True)
    if problems:
        raise typer.Exit(2)
    print(f"{len(chains)} template(s) in {file} parse.")


def register(app: typer.Typer) -> None:
    app.add_typer(templates_app, name="templates")
