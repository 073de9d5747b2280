"""The Volcengine visual front's one error table (restyle error code -> Volcengine code and HTTP
status) and the body every refused request of this front answers with:
``{"code", "data": null, "message", "request_id", "status", "time_elapsed"}``.

The risk codes and their HTTP 400 come from seed [000]; 50400 / 50429 / 50430 / 50500 are the codes
the same vendor uses for access, limits and internal errors (protocols/README.md section 1). Neither
names a code for a refused parameter or input image: :data:`INPUT_INVALID_CODE` (50215) is restyle's
guess, kept in one place so that it is easy to change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from restyle.api.errors import request_id
from restyle.api.fronts.models.risk import RISKS
from restyle.api.fronts.routing import vendor_route
from restyle.errors import RateLimited, RestyleError

SUCCESS = 10000
STARTED_KEY = "volc_started"  # request.state: monotonic time the request arrived (for time_elapsed)


@dataclass(frozen=True)
class VendorError:
    """A Volcengine visual error: its numeric ``code`` and the HTTP status it is answered with."""

    code: int
    status: int


ACCESS_DENIED = VendorError(50400, 401)
FORBIDDEN = VendorError(50400, 403)
INPUT_INVALID_CODE = 50215  # GUESS: no seed or protocol note names the code of a refused input
INVALID_INPUT = VendorError(INPUT_INVALID_CODE, 400)
NOT_FOUND = VendorError(INPUT_INVALID_CODE, 404)
INTERNAL = VendorError(50500, 500)

RISK_BY_NUMBER = {risk.code: risk for risk in RISKS.values()}

TABLE: dict[str, VendorError] = {
    # content checks: seed [000] (HTTP 400 each)
    **{code: VendorError(risk.code, 400) for code, risk in RISKS.items()},
    # credentials and signatures
    "auth.invalid": ACCESS_DENIED,
    "auth.access_key": ACCESS_DENIED,
    "auth.signature": ACCESS_DENIED,
    "auth.signature_missing": ACCESS_DENIED,
    "auth.unknown_key": ACCESS_DENIED,
    "auth.signed_header_missing": ACCESS_DENIED,
    "auth.unsigned_header": ACCESS_DENIED,
    "auth.date_invalid": ACCESS_DENIED,
    "auth.signature_mismatch": FORBIDDEN,
    "auth.expired": FORBIDDEN,
    "auth.clock_skew": FORBIDDEN,
    "auth.wrong_scope": FORBIDDEN,
    "auth.replayed": FORBIDDEN,
    "auth.body_hash": VendorError(50400, 400),
    "auth.forbidden": FORBIDDEN,
    # the calling convention: Action, Version, req_key
    "action.unknown": VendorError(50400, 404),
    "model.unknown": INVALID_INPUT,
    # limits
    "limit.rate": VendorError(50429, 429),
    "limit.queue_full": VendorError(50430, 429),
    # tasks
    "not_found": NOT_FOUND,
    "task.not_found": NOT_FOUND,
    "conflict": INVALID_INPUT,
    "task.final": INVALID_INPUT,
    "task.canceled": INVALID_INPUT,
    "task.deadline": VendorError(50500, 504),
    "task.lost": INTERNAL,
    "internal": INTERNAL,
}

# Families: every parameter, image and URL problem is "input invalid" (HTTP 400 or the error's 4xx).
PREFIXES: dict[str, VendorError] = {
    "param.": INVALID_INPUT,
    "request.": INVALID_INPUT,
    "image.": INVALID_INPUT,
    "url.": INVALID_INPUT,
    "label.": INVALID_INPUT,
    "face.": INVALID_INPUT,
    "style.": INVALID_INPUT,
    "idempotency.": INVALID_INPUT,
    "feature.": INVALID_INPUT,
    "auth.": ACCESS_DENIED,
}


def vendor_error(error_code: str | None, status: int = 500) -> VendorError:
    """The Volcengine code and HTTP status for a restyle error code (then its family, then its status)."""
    code = error_code or "internal"
    if code in TABLE:
        return TABLE[code]
    for prefix, mapped in PREFIXES.items():
        if code.startswith(prefix):
            return mapped
    if status == 429:
        return TABLE["limit.rate"]
    return INTERNAL if status >= 500 else INVALID_INPUT


def elapsed(request: Request) -> str:
    """``time_elapsed`` as the vendor writes it (``"1.02s"``), from the request's arrival."""
    started = getattr(request.state, STARTED_KEY, None)
    seconds = 0.0 if started is None else time.monotonic() - started
    return f"{seconds:.6f}s"


def envelope(request: Request, code: int, message: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """The common body: code and status are the same number; ``data`` is null on a refusal."""
    risk = RISK_BY_NUMBER.get(code)
    if risk is not None:  # the seed's words lead, then restyle's reason
        message = risk.describe(message)
    return {
        "code": code,
        "data": data,
        "message": message,
        "request_id": request_id(request),
        "status": code,
        "time_elapsed": elapsed(request),
    }


def failure_response(
    request: Request, error_code: str | None, message: str, data: dict[str, Any] | None = None
) -> JSONResponse:
    """A refusal or a failed task in the vendor's body, with the table's HTTP status."""
    mapped = vendor_error(error_code)
    return JSONResponse(envelope(request, mapped.code, message, data), status_code=mapped.status)


def error_response(request: Request, error: RestyleError) -> JSONResponse:
    mapped = vendor_error(error.code, error.status)
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    body = envelope(request, mapped.code, error.message, None)
    return JSONResponse(body, status_code=mapped.status, headers=headers)


def _stamp_start(request: Request) -> None:
    setattr(request.state, STARTED_KEY, time.monotonic())


VolcRoute = vendor_route(error_response, _stamp_start)  # the signature dependency's failures included
