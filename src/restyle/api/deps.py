"""FastAPI dependencies: the app's services, the calling account, admin rights, the base URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from restyle.api.services import Services
from restyle.auth.models import AccountRow
from restyle.errors import AuthenticationError, PermissionDenied

_bearer = HTTPBearer(auto_error=False, description="An API key from `restyle keys create`.")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_account(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> AccountRow:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError(
            "This endpoint needs an API key: send 'Authorization: Bearer <api key>' "
            "(create one with 'restyle keys create')."
        )
    return services.keys.authenticate(credentials.credentials)


AccountDep = Annotated[AccountRow, Depends(current_account)]


async def admin_account(account: AccountDep) -> AccountRow:
    if not account.is_admin:
        raise PermissionDenied("Managing accounts needs an admin key ('restyle keys create --admin').")
    return account


AdminDep = Annotated[AccountRow, Depends(admin_account)]


async def base_url(request: Request, services: ServicesDep) -> str:
    """Where links in responses point: ``server.public_url`` if set, else the URL the caller used."""
    if services.settings.server.public_url:
        return services.settings.server.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


BaseUrlDep = Annotated[str, Depends(base_url)]
