"""``restyle imagex add-service``: a veImageX service (ServiceId) for an account, straight in the database."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from restyle.commands.serve import ConfigOption, DataDirOption, load_settings

imagex_app = typer.Typer(help="veImageX services (GetCVImageGenerateResult).", no_args_is_help=True)


@imagex_app.command("add-service")
def add_service_command(
    account: Annotated[str, typer.Option("--account", help="The owning account's name.")],
    domain: Annotated[str, typer.Option("--domain", help="A domain bound to the service.")] = "",
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a service owned by account ACCOUNT and print its ServiceId."""
    from restyle.api.services import open_database
    from restyle.auth.accounts import AccountStore
    from restyle.storage.imagex_services import ImagexServiceStore

    settings = load_settings(config, data_dir)
    db, _ = open_database(settings)
    owner = AccountStore(db, settings.limits).by_name(account)
    if owner is None:
        typer.echo(
            f"error: account '{account}' does not exist; create it with `restyle keys create`.", err=True
        )
        raise typer.Exit(1)
    row = ImagexServiceStore(db).create(owner.id, domain)
    db.dispose()
    if as_json:
        typer.echo(json.dumps({"service_id": row.service_id, "account_id": owner.id, "domain": row.domain}))
        return
    typer.echo(row.service_id)


def register(app: typer.Typer) -> None:
    app.add_typer(imagex_app, name="imagex")
