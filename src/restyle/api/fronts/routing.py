"""What every vendor front's routes share: failures answered in the vendor's own error body."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from restyle.errors import InternalError, InvalidParameter, RestyleError

log = logging.getLogger(__name__)

ErrorResponder = Callable[[Request, RestyleError], Response]


def validation_error(exc: RequestValidationError) -> InvalidParameter:
    """FastAPI's validation failure as a RestyleError naming the first bad parameter."""
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
    message = str(first.get("msg", "is not valid")).rstrip(".")
    return InvalidParameter(f"Parameter '{where}': {message}.", param=where)


def vendor_route(respond: ErrorResponder, on_start: Callable[[Request], None] | None = None) -> type[APIRoute]:
    """An APIRoute class whose every failure (dependencies included) is answered by ``respond`` in the
    vendor's format, so a front's errors never reach the native API's handler."""

    class VendorRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                if on_start is not None:
                    on_start(request)
                try:
                    return await handler(request)
                except RestyleError as error:
                    return respond(request, error)
                except RequestValidationError as exc:
                    return respond(request, validation_error(exc))
                except HTTPException as exc:
                    http_error = RestyleError(
                        str(exc.detail), code=f"http.{exc.status_code}", status=exc.status_code
                    )
                    return respond(request, http_error)
                except Exception:
                    log.exception("unexpected error in %s %s", request.method, request.url.path)
                    return respond(request, InternalError("An unexpected error occurred; the server logged it."))

            return handle

    return VendorRoute
