"""``/v1/account`` (the caller) and ``/v1/accounts`` (admin: manage accounts and their keys)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from restyle.api.deps import AccountDep, AdminDep, ServicesDep
from restyle.api.schemas import ErrorBody
from restyle.api.services import Services
from restyle.auth.accounts import account_to_dict
from restyle.auth.keys import key_to_dict
from restyle.errors import ConfigurationError, Conflict, InvalidParameter
from restyle.safety import policy_for
from restyle.storage.purge import purge_owned_files

router = APIRouter(tags=["accounts"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409)}


class AccountCreate(BaseModel):
    """A new account; limits default to the server's (``limits.default_qps`` / ``default_concurrency``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    qps: float | None = Field(None, gt=0)
    concurrency: int | None = Field(None, ge=0)
    is_admin: bool = False
    safety: bool | dict[str, Any] | None = Field(
        None, description="false turns content checks off for the account, or an object of safety settings"
    )


class AccountUpdate(BaseModel):
    """Fields to change; omitted ones stay."""

    model_config = ConfigDict(extra="forbid")

    qps: float | None = Field(None, gt=0)
    concurrency: int | None = Field(None, ge=0)
    disabled: bool | None = None
    is_admin: bool | None = None
    safety: bool | dict[str, Any] | None = None


@router.get("/v1/account", responses=_ERRORS, summary="The calling account")
def me(services: ServicesDep, account: AccountDep) -> dict[str, Any]:
    """Your account, its limits, and the secret that signs your webhooks."""
    return {**account_to_dict(account), "webhook_secret": services.server_key.webhook_secret(account.id)}


@router.get("/v1/accounts", responses=_ERRORS, summary="List accounts (admin)")
def list_accounts(services: ServicesDep, _admin: AdminDep) -> dict[str, Any]:
    return {"object": "list", "data": [account_to_dict(a) for a in services.accounts.list_all()]}


@router.post(
    "/v1/accounts", status_code=201, responses=_ERRORS, summary="Create an account and its first key (admin)"
)
def create_account(body: AccountCreate, services: ServicesDep, _admin: AdminDep) -> dict[str, Any]:
    account = services.accounts.create(
        body.name,
        qps=body.qps,
        concurrency=body.concurrency,
        is_admin=body.is_admin,
        options=_safety_option(services, body.safety),
    )
    credentials = services.keys.issue(account)
    return {"account": account_to_dict(account), "credentials": credentials.to_dict()}


@router.get("/v1/accounts/{account_id}", responses=_ERRORS, summary="An account and its keys (admin)")
def get_account(account_id: str, services: ServicesDep, _admin: AdminDep) -> dict[str, Any]:
    account = services.accounts.get(account_id)
    return {**account_to_dict(account), "keys": [key_to_dict(k) for k in services.keys.list_keys(account_id)]}


@router.patch("/v1/accounts/{account_id}", responses=_ERRORS, summary="Change limits or disable (admin)")
def update_account(
    account_id: str, body: AccountUpdate, services: ServicesDep, _admin: AdminDep
) -> dict[str, Any]:
    changes = body.model_dump(exclude_none=True, exclude={"safety"})
    account = services.accounts.update(account_id, options=_safety_option(services, body.safety), **changes)
    return account_to_dict(account)


# What an admin may set per account over HTTP: switches and thresholds, never code or file paths.
ACCOUNT_SAFETY_KEYS = frozenset({"enabled", "input_image", "output_image", "text", "image_classes", "leetspeak"})


def _safety_option(services: Services, value: bool | dict[str, Any] | None) -> dict[str, Any] | None:
    """``{"safety": value}`` once the safety settings accept it, else a 400 naming ``safety``."""
    if value is None:
        return None
    if isinstance(value, dict) and (refused := sorted(set(value) - ACCOUNT_SAFETY_KEYS)):
        raise InvalidParameter(
            f"Parameter 'safety' may set only {', '.join(sorted(ACCOUNT_SAFETY_KEYS))} per account, not "
            f"{', '.join(refused)} (checkers and blocklist files are the operator's settings).",
            param="safety",
        )
    options = {"safety": value}
    try:
        policy_for(services.settings, options)
    except ConfigurationError as exc:
        raise InvalidParameter(exc.message, param="safety") from None
    return options


@router.post("/v1/accounts/{account_id}/keys", status_code=201, responses=_ERRORS, summary="New key (admin)")
def create_key(account_id: str, services: ServicesDep, _admin: AdminDep) -> dict[str, Any]:
    return services.keys.issue(services.accounts.get(account_id)).to_dict()


@router.delete("/v1/accounts/{account_id}/keys/{key}", responses=_ERRORS, summary="Revoke a key (admin)")
def revoke_key(account_id: str, key: str, services: ServicesDep, _admin: AdminDep) -> dict[str, Any]:
    return key_to_dict(services.keys.revoke(key, account_id))


@router.delete(
    "/v1/accounts/{account_id}", status_code=204, responses=_ERRORS, summary="Delete an account (admin)"
)
def delete_account(account_id: str, services: ServicesDep, admin: AdminDep) -> Response:
    """Delete the account, its keys, and all its tasks and files. An admin cannot delete itself."""
    if account_id == admin.id:
        raise Conflict("An admin cannot delete its own account; use another admin key.", code="account.self")
    services.accounts.get(account_id)  # 404 before anything is removed
    services.accounts.update(account_id, disabled=True)  # no new task can arrive while it is emptied
    services.tasks.purge_account(account_id)
    purge_owned_files(services.db, services.storage, account_id)
    services.accounts.delete(account_id)
    return Response(status_code=204)
