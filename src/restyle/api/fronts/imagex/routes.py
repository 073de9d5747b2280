"""``POST /v1/imagex/services`` (admin): create a veImageX service for an account."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from restyle.api.deps import AdminDep, ServicesDep
from restyle.api.schemas import ErrorBody
from restyle.auth.accounts import AccountStore
from restyle.errors import InvalidParameter, NotFound
from restyle.storage.imagex_services import ImagexServiceRow, ImagexServiceStore

router = APIRouter(tags=["imagex"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404)}


class ServiceCreate(BaseModel):
    """The account (by id or name) the service belongs to, and an optional bound domain."""

    model_config = ConfigDict(extra="forbid")

    account_id: str | None = Field(None, max_length=40)
    account: str | None = Field(None, max_length=100, description="the account's name")
    domain: str = Field("", max_length=253)


def service_to_dict(row: ImagexServiceRow) -> dict[str, Any]:
    return {
        "service_id": row.service_id,
        "account_id": row.account_id,
        "domain": row.domain,
        "created_at": row.created_at.isoformat(),
    }


def owner_id(accounts: AccountStore, account_id: str | None, name: str | None) -> str:
    """The id of the account named by id or by name (exactly one of them)."""
    if (account_id is None) == (name is None):
        raise InvalidParameter("Send exactly one of 'account_id' and 'account'.", param="account_id")
    if account_id is not None:
        return accounts.get(account_id).id
    row = accounts.by_name(name or "")
    if row is None:
        raise NotFound(f"Account '{name}' does not exist.", code="account.not_found", param="account")
    return row.id


@router.post(
    "/v1/imagex/services", status_code=201, responses=_ERRORS, summary="Create a veImageX service (admin)"
)
async def create_service(body: ServiceCreate, services: ServicesDep, _admin: AdminDep) -> dict[str, Any]:
    """A new ServiceId owned by the account; GetCVImageGenerateResult stores its results there."""
    account_id = await asyncio.to_thread(owner_id, services.accounts, body.account_id, body.account)
    row = await asyncio.to_thread(ImagexServiceStore(services.db).create, account_id, body.domain)
    return service_to_dict(row)
