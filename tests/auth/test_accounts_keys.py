"""Accounts and keys on SQLite and PostgreSQL: hashed API keys, encrypted secrets, revocation."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from restyle.auth.accounts import AccountStore
from restyle.auth.demo import ensure_demo_account
from restyle.auth.keys import KeyStore
from restyle.auth.models import KeyRow
from restyle.auth.serverkey import ServerKey
from restyle.errors import AuthenticationError, Conflict, InvalidParameter, NotFound
from restyle.tasks.db import Database


def test_accounts_get_defaults_and_unique_names(accounts: AccountStore) -> None:
    alice = accounts.create("alice")
    assert (alice.qps, alice.concurrency, alice.is_admin) == (2.0, 1, False)
    with pytest.raises(Conflict) as duplicate:
        accounts.create("alice")
    assert duplicate.value.code == "account.exists"
    updated = accounts.update(alice.id, qps=5, concurrency=3, disabled=True)
    assert (updated.qps, updated.concurrency, updated.disabled) == (5, 3, True)
    assert accounts.by_name("alice") is not None and accounts.by_name("nobody") is None
    with pytest.raises(InvalidParameter):
        accounts.create("bob", qps=0)
    with pytest.raises(InvalidParameter):
        accounts.create("  ")
    with pytest.raises(NotFound):
        accounts.get("acc_missing")


def test_keys_are_stored_hashed_and_encrypted(accounts: AccountStore, keys: KeyStore, db: Database) -> None:
    account = accounts.create("alice")
    credentials = keys.issue(account)
    assert credentials.api_key.startswith("rsk_") and credentials.access_key_id.startswith("AKRS")
    with db.read() as session:
        row = session.scalars(select(KeyRow)).one()
    stored = f"{row.api_key_hash} {row.secret_encrypted}"
    assert credentials.api_key not in stored and credentials.secret_access_key not in stored
    assert row.api_key_hash == hashlib.sha256(credentials.api_key.encode()).hexdigest()
    assert keys.authenticate(credentials.api_key).id == account.id
    owner, secret = keys.access_secret(credentials.access_key_id)
    assert owner.id == account.id and secret == credentials.secret_access_key


@pytest.mark.parametrize(
    "mangle", [lambda k: k + "x", lambda k: k[:-1], lambda k: "rsk_0000_x", lambda k: "bearer"]
)
def test_wrong_api_keys_are_refused(accounts: AccountStore, keys: KeyStore, mangle) -> None:  # type: ignore[no-untyped-def]
    credentials = keys.issue(accounts.create("alice"))
    with pytest.raises(AuthenticationError) as refused:
        keys.authenticate(mangle(credentials.api_key))
    assert refused.value.status == 401 and "Authorization: Bearer" in refused.value.message


def test_revoked_keys_and_disabled_accounts_stop_working(accounts: AccountStore, keys: KeyStore) -> None:
    account = accounts.create("alice")
    first, second = keys.issue(account), keys.issue(account)
    assert keys.revoke(first.access_key_id).revoked_at is not None
    with pytest.raises(AuthenticationError):
        keys.authenticate(first.api_key)
    with pytest.raises(AuthenticationError):
        keys.access_secret(first.access_key_id)
    assert keys.authenticate(second.api_key).id == account.id
    accounts.update(account.id, disabled=True)
    with pytest.raises(AuthenticationError) as disabled:
        keys.authenticate(second.api_key)
    assert "disabled" in disabled.value.message
    with pytest.raises(NotFound):
        keys.revoke("nope")
    with pytest.raises(NotFound):  # scoped revocation cannot touch another account's key
        keys.revoke(second.key_id, account_id=accounts.create("bob").id)


def test_a_new_server_key_cannot_read_old_secrets(
    accounts: AccountStore, keys: KeyStore, db: Database
) -> None:
    credentials = keys.issue(accounts.create("alice"))
    other = KeyStore(db, ServerKey(b"o" * 32))
    with pytest.raises(AuthenticationError) as refused:
        other.access_secret(credentials.access_key_id)
    assert "server key changed" in refused.value.message


def test_the_demo_account_is_made_once(accounts: AccountStore, keys: KeyStore) -> None:
    credentials = ensure_demo_account(accounts, keys)
    assert credentials is not None and credentials.account_name == "demo"
    assert keys.authenticate(credentials.api_key).name == "demo"
    assert ensure_demo_account(accounts, keys) is None
