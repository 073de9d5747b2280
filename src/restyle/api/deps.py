"""FastAPI dependencies: the app's services, the calling account, admin rights, the base URL."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from restyle.api.services import Services
from restyle.auth.models import AccountRow
from restyle.errors import AuthenticationError, InvalidParameter, PermissionDenied

_bearer = HTTPBearer(auto_error=False, description="An API key from `restyle keys create`.")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_account(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> AccountRow:
    """The caller's account; a key checked in the last few seconds costs no database read (and no
    thread), see :class:`restyle.auth.keys.VerifiedKeys`."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError(
            "This endpoint needs an API key: send 'Authorization: Bearer <api key>' "
            "(create one with 'restyle keys create')."
        )
    account = services.keys.cached(credentials.credentials)
    if account is None:
        account = await asyncio.to_thread(services.keys.authenticate, credentials.credentials)
    return account


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


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _route_query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters a route declares (its dependencies included), worked out once per route
    and kept on it (routes are not hashable, so no cache dict)."""
    names: frozenset[str] | None = getattr(route, _QUERY_NAMES, None)
    if names is None:
        names = frozenset(_query_names(route.dependant))
        setattr(route, _QUERY_NAMES, names)
    return names


_QUERY_NAMES = "_restyle_query_names"


async def known_query_only(request: Request) -> None:
    """Refuse query parameters the route does not declare: a typo (``?statuss=``) never passes silently."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _route_query_names(route)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        choices = ", ".join(sorted(allowed)) or "none"
        raise InvalidParameter(
            f"Query parameter '{unknown[0]}' is not known here; this endpoint takes: {choices}.",
            param=unknown[0],
        )
