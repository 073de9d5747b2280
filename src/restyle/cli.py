"""The ``restyle`` command line: run | styles | doctor | serve | worker | keys."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(help="restyle: stylized portraits that keep the person recognisable.", no_args_is_help=True)

# module inside restyle.commands -> each defines register(app); missing modules are skipped so that a
# command under construction never breaks the others
_COMMAND_MODULES = (
    *("run", "styles", "doctor", "serve", "keys", "worker", "process", "templates", "inspect"),
    "imagex",
)

for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"restyle.commands.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"restyle.commands.{_name}":
            raise
        continue
    _module.register(app)


def main() -> None:
    """Entry point of the console script: a settings problem is one clear line and exit code 2, any other
    restyle error that escapes a command (e.g. object storage unreachable at start-up) one line and exit 1."""
    from restyle.errors import ConfigurationError, RestyleError

    try:
        app()
    except ConfigurationError as exc:
        typer.echo(f"restyle: {exc.message}", err=True)
        raise SystemExit(2) from None
    except RestyleError as exc:
        typer.echo(f"restyle: {exc.message} ({exc.code})", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
