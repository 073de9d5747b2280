"""Authentication of the signed vendor protocols (Volcengine HMAC-SHA256, TOS4-HMAC-SHA256) for the
fronts: read the request exactly as it came over the wire and hand it to the verifier.

Framework-agnostic apart from Starlette's ``Request``: a front calls ``verify_signed_request`` in its
route or uses ``signed_account(...)`` as a FastAPI dependency.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import anyio.to_thread
from starlette.requests import Request

from restyle.auth.keys import KeyStore
from restyle.auth.models import AccountRow
from restyle.auth.signatures import WINDOW, ReplayCache, SignedRequest, needs_body
from restyle.auth.signed import Scheme, SignedCaller, verify_with_keys

STATE_KEY = "signed_caller"
"""``request.state.signed_caller``: the SignedCaller of a verified request (region, token, time)."""


def raw_target(scope: Mapping[str, Any]) -> str:
    """The request target as sent: raw path plus query string.

    uvicorn's h11 parser keeps an absolute-form target (``GET http://bucket.host/key``, what the TOS
    SDK sends through a proxy) whole in ``raw_path``; its httptools parser keeps only the path (the
    Host header still names the bucket). Both come out right here; the verifier splits either form.
    """
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    target = raw_path.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


async def verify_signed_request(
    request: Request,
    *,
    scheme: Scheme,
    service: str,
    keys: KeyStore,
    now: datetime | None = None,
    regions: Collection[str] | None = None,
    window: timedelta = WINDOW,
    replay: ReplayCache | None = None,
) -> AccountRow:
    """The account that signed ``request``; raises a RestyleError (``auth.*``) when the check fails.

    Reads the body for ``volc`` (its hash is signed) and for ``tos`` only when the client declared a
    body hash (the SDK sends ``UNSIGNED-PAYLOAD``, so an upload is not read here). The body stays
    cached on the request for the route. The SignedCaller is kept in ``request.state.signed_caller``.
    """
    headers: list[tuple[bytes, bytes]] = list(request.scope["headers"])
    read_body = scheme == "volc" or needs_body(request.headers.get("x-tos-content-sha256"))
    body = await request.body() if read_body else None
    signed = SignedRequest.from_parts(request.method, raw_target(request.scope), headers, body)
    check = partial(
        verify_with_keys,
        signed,
        scheme=scheme,
        service=service,
        keys=keys,
        now=now or datetime.now(UTC),
        regions=regions,
        window=window,
        replay=replay,
    )
    caller: SignedCaller = await anyio.to_thread.run_sync(check)
    setattr(request.state, STATE_KEY, caller)
    return caller.account


def signed_account(
    scheme: Scheme,
    service: str,
    *,
    regions: Collection[str] | None = None,
    replay: ReplayCache | None = None,
) -> Callable[[Request], Awaitable[AccountRow]]:
    """A FastAPI dependency: ``Annotated[AccountRow, Depends(signed_account("volc", "cv"))]``.

    The key store comes from ``request.app.state.services.keys`` (the app's Services).
    """

    async def dependency(request: Request) -> AccountRow:
        keys: KeyStore = request.app.state.services.keys
        return await verify_signed_request(
            request, scheme=scheme, service=service, keys=keys, regions=regions, replay=replay
        )

    return dependency
