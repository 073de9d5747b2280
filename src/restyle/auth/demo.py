"""The demo account created on a server's first start, so that ``make run`` works out of the box."""

from __future__ import annotations

from restyle.auth.accounts import AccountStore
from restyle.auth.keys import Credentials, KeyStore
from restyle.errors import Conflict

DEMO_NAME = "demo"


def ensure_demo_account(accounts: AccountStore, keys: KeyStore) -> Credentials | None:
    """Credentials of a new ``demo`` account when the server has no account yet, else None."""
    if accounts.count() > 0:
        return None
    try:
        account = accounts.create(DEMO_NAME)
    except Conflict:  # another process created it first
        return None
    return keys.issue(account)
