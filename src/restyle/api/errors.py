"""The one error handler of the native API: every failure becomes
``{"error": {"code", "message"[, "param"]}, "request_id"}`` with the error's own HTTP status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from restyle.errors import (
    InternalError,
    InvalidParameter,
    NotFound,
    RateLimited,
    RestyleError,
    TryLater,
)

log = logging.getLogger(__name__)


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def error_response(request: Request, error: RestyleError) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited | TryLater):
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    body: dict[str, Any] = {"error": error.to_dict(), "request_id": request_id(request)}
    return JSONResponse(body, status_code=error.status, headers=headers)


def _from_http(exc: StarletteHTTPException) -> RestyleError:
    if exc.status_code == 404:
        return NotFound("There is no such endpoint; see /docs for the API.", code="endpoint.not_found")
    if exc.status_code == 405:
        return RestyleError(
            "This endpoint does not accept that method; see /docs.", code="method.not_allowed", status=405
        )
    return RestyleError(str(exc.detail), code=f"http.{exc.status_code}", status=exc.status_code)


def _from_validation(exc: RequestValidationError) -> RestyleError:
    first = exc.errors()[0] if exc.errors() else {}
    where = first.get("loc", ())
    kind = str(where[0]) if where else "body"
    location = [str(part) for part in where[1:] if not isinstance(part, int)] if where else []
    message = str(first.get("msg", "is not valid")).rstrip(".")
    if first.get("type") == "json_invalid":
        return InvalidParameter(f"The request body is not valid JSON ({message}).", code="request.invalid_json")
    if not location:
        what = "The request body" if kind == "body" else f"The {kind}"
        return InvalidParameter(f"{what} is not valid: {message}.")
    param = ".".join(location)
    return InvalidParameter(f"Parameter '{param}': {message}.", param=param)


def install_error_handlers(app: FastAPI) -> None:
    async def on_restyle_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RestyleError)
        return error_response(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(request, _from_http(exc))

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(request, _from_validation(exc))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return error_response(request, InternalError("An unexpected error occurred; the server logged it."))

    app.add_exception_handler(RestyleError, on_restyle_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
