"""Volcengine OpenAPI actions served on ``POST /?Action=...`` by a front other than the visual one.

The visual front owns the ``POST /`` route; another front that answers an Action there (veImageX's
GetCVImageGenerateResult) registers an :data:`Endpoint` here, and the visual dispatcher hands such a
request over before checking its own signature scope. The endpoint verifies, runs and answers in its
own vendor format; neither front imports the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

Endpoint = Callable[[Request], Awaitable[Response]]

_ENDPOINTS: dict[str, Endpoint] = {}


def register_action(action: str, endpoint: Endpoint) -> None:
    """Serve ``Action=action`` on ``POST /`` with ``endpoint``."""
    _ENDPOINTS[action] = endpoint


def endpoint_for(action: str | None) -> Endpoint | None:
    """The endpoint another front registered for ``action``, if any."""
    return _ENDPOINTS.get(action or "")


def registered_actions() -> list[str]:
    return sorted(_ENDPOINTS)
