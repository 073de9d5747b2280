"""``restyle keys create | list | revoke``: accounts and their keys, straight in the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from restyle.commands.serve import ConfigOption, DataDirOption, load_settings

keys_app = typer.Typer(help="Create, list and revoke API keys and access keys.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@contextmanager
def _user_errors() -> Iterator[None]:
    """A RestyleError ends the command with its message and exit code 1, not a traceback."""
    from restyle.errors import RestyleError

    try:
        yield
    except RestyleError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


def _stores(config: Any, data_dir: Any) -> Any:
    from restyle.api.services import open_database
    from restyle.auth.accounts import AccountStore
    from restyle.auth.keys import KeyStore

    settings = load_settings(config, data_dir)
    db, server_key = open_database(settings)
    return AccountStore(db, settings.limits), KeyStore(db, server_key), server_key


@keys_app.command("create")
def create_command(
    name: Annotated[str, typer.Option("--name", help="Account name; created if new.")],
    qps: Annotated[float | None, typer.Option(help="Submits per second (default 2).")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Tasks running at once (default 1).")] = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="The account may manage accounts over the API.")
    ] = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a new API key and access key pair for account NAME (secrets are shown only now)."""
    accounts, keys, server_key = _stores(config, data_dir)
    with _user_errors():
        account = accounts.by_name(name)
        if account is None:
            account = accounts.create(name, qps=qps, concurrency=concurrency, is_admin=admin)
        elif qps is not None or concurrency is not None or admin:
            account = accounts.update(
                account.id, qps=qps, concurrency=concurrency, is_admin=True if admin else None
            )
    out = {**keys.issue(account).to_dict(), "webhook_secret": server_key.webhook_secret(account.id)}
    out.update(qps=account.qps, concurrency=account.concurrency, is_admin=account.is_admin)
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    for label, field in (
        ("account", "account_name"),
        ("account id", "account_id"),
        ("key id", "key_id"),
        ("API key", "api_key"),
        ("access key id", "access_key_id"),
        ("secret access key", "secret_access_key"),
        ("webhook secret", "webhook_secret"),
    ):
        typer.echo(f"{label + ':':<19}{out[field]}")


@keys_app.command("list")
def list_command(
    data_dir: DataDirOption = None, config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """Accounts and their keys (ids only; secrets are never shown again)."""
    from restyle.auth.accounts import account_to_dict
    from restyle.auth.keys import key_to_dict

    accounts, keys, _ = _stores(config, data_dir)
    listing = [
        {**account_to_dict(a), "keys": [key_to_dict(k) for k in keys.list_keys(a.id)]}
        for a in accounts.list_all()
    ]
    if as_json:
        typer.echo(json.dumps(listing, indent=2))
        return
    for account in listing:
        flags = " admin" if account["is_admin"] else ""
        typer.echo(
            f"{account['name']} ({account['id']}) qps={account['qps']:g} concurrency={account['concurrency']}{flags}"
        )
        for key in account["keys"]:
            state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "active"
            typer.echo(f"  {key['id']}  {key['access_key_id']}  created {key['created_at']}  {state}")


@keys_app.command("revoke")
def revoke_command(
    key: Annotated[str, typer.Argument(help="Key id or access key id.")],
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Revoke a key: its API key and access key stop working at once."""
    _, keys, _ = _stores(config, data_dir)
    with _user_errors():
        row = keys.revoke(key)
    typer.echo(f"revoked {row.id} ({row.access_key_id})")


@keys_app.command("c2pa-dev-cert")
def c2pa_dev_cert_command(
    out: Annotated[Path, typer.Option("--out", help="Directory for the PEM files.")] = Path("c2pa-dev"),
    as_json: JsonOption = False,
) -> None:
    """Create a local development CA and an ES256 C2PA signing certificate (not for production)."""
    from restyle.labels.devcert import write_dev_cert

    files = write_dev_cert(out)
    paths = {"chain": str(files.chain), "key": str(files.key), "ca": str(files.ca), "ca_key": str(files.ca_key)}
    if as_json:
        typer.echo(json.dumps(paths, indent=2))
        return
    typer.echo(f"certificate chain: {files.chain}")
    typer.echo(f"signing key:       {files.key}")
    typer.echo(f"development CA:    {files.ca} (trust anchor for 'restyle inspect --c2pa-trust')")
    typer.echo("use them with:")
    typer.echo(f"  RESTYLE_LABELS__C2PA_CERT_PATH={files.chain.resolve()}")
    typer.echo(f"  RESTYLE_LABELS__C2PA_KEY_PATH={files.key.resolve()}")

def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
