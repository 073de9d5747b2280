"""The veImageX front's one error table (restyle error code -> OpenAPI ``Code``, ``CodeN`` and HTTP
status) and the ``ResponseMetadata`` every answer carries.

A refusal is ``{"ResponseMetadata": {..., "Error": {"Code", "CodeN", "Message"}}}`` with the table's
HTTP status: the ImageX SDK raises on any ``ResponseMetadata.Error`` and on any status other than 200,
so both carry the same information; other clients get the vendor's status. The seed lists no codes of
its own ("本接口无特有的错误码"). Where the vendor's common OpenAPI error list gives a name, ``CodeN``
and status (InvalidTimestamp, InvalidActionOrVersion, InvalidAccessKey, SignatureDoesNotMatch,
AccessDenied) they are used as listed; every other ``CodeN`` is restyle's guess, marked ``GUESS``
below, one constant each so that it is easy to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from restyle.api.errors import request_id
from restyle.api.fronts.models.risk import RISKS, risk_of
from restyle.api.signed import STATE_KEY
from restyle.auth.signed import SignedCaller
from restyle.errors import RateLimited, RestyleError

ACTION = "GetCVImageGenerateResult"
VERSION = "2023-05-01"
SERVICE = "ImageX"
DEFAULT_REGION = "cn-north-1"


@dataclass(frozen=True)
class VendorError:
    """An OpenAPI error: ``Code``, ``CodeN`` and the HTTP status it is answered with."""

    code: str
    code_n: int
    status: int


# the vendor's common OpenAPI errors (name, CodeN and status as listed)
MISSING_PARAMETER = VendorError("MissingParameter", 100002, 400)
MISSING_SIGNATURE = VendorError("MissingSignature", 100005, 401)
INVALID_TIMESTAMP = VendorError("InvalidTimestamp", 100006, 400)
INVALID_ACTION = VendorError("InvalidActionOrVersion", 100008, 404)
INVALID_ACCESS_KEY = VendorError("InvalidAccessKey", 100009, 401)
SIGNATURE_MISMATCH = VendorError("SignatureDoesNotMatch", 100010, 401)
ACCESS_DENIED = VendorError("AccessDenied", 100013, 403)
# GUESS: common names without a listed CodeN here
INVALID_PARAMETER = VendorError("InvalidParameter", 100004, 400)
FLOW_LIMIT = VendorError("FlowLimitExceeded", 100018, 429)
INTERNAL = VendorError("InternalError", 100023, 500)
REQUEST_TIMEOUT = VendorError("RequestTimeout", 100024, 504)
# GUESS: veImageX's own errors for this call (the seed names none)
SERVICE_NOT_FOUND = VendorError("ServiceNotFound", 604001, 404)
FILE_EXISTS = VendorError("FileAlreadyExists", 604002, 409)
IMAGE_NOT_FOUND = VendorError("ImageNotFound", 604003, 404)
TEMPLATE_NOT_FOUND = VendorError("TemplateNotFound", 604004, 404)
INVALID_MODEL = VendorError("InvalidModel", 604005, 400)
# the model's content checks keep the model API's numbers (seed [000]), under one name
RISK = "RiskNotPass"

TABLE: dict[str, VendorError] = {
    # credentials and signatures
    "auth.signature_missing": MISSING_SIGNATURE,
    "auth.unknown_key": INVALID_ACCESS_KEY,
    "auth.access_key": INVALID_ACCESS_KEY,
    "auth.signature_mismatch": SIGNATURE_MISMATCH,
    "auth.expired": INVALID_TIMESTAMP,
    "auth.clock_skew": INVALID_TIMESTAMP,
    "auth.date_invalid": INVALID_TIMESTAMP,
    "auth.wrong_scope": ACCESS_DENIED,
    "auth.forbidden": ACCESS_DENIED,
    # the call itself
    "action.unknown": INVALID_ACTION,
    "param.missing": MISSING_PARAMETER,
    "imagex.service_not_found": SERVICE_NOT_FOUND,
    "imagex.exists": FILE_EXISTS,
    "imagex.image_not_found": IMAGE_NOT_FOUND,
    "template.unknown": TEMPLATE_NOT_FOUND,
    "model.unknown": INVALID_MODEL,
    # content checks: the model's risk numbers
    **{code: VendorError(RISK, risk.code, 400) for code, risk in RISKS.items()},
    # limits and tasks
    "limit.rate": FLOW_LIMIT,
    "limit.queue_full": FLOW_LIMIT,
    "task.deadline": REQUEST_TIMEOUT,
    "internal": INTERNAL,
}
PREFIXES: dict[str, VendorError] = {"auth.": INVALID_ACCESS_KEY, "safety.": TABLE["safety.refused"]}


def vendor_error(error: RestyleError) -> VendorError:
    """The OpenAPI error for ``error``: by its code, then its family, then its status."""
    if error.code in TABLE:
        return TABLE[error.code]
    for prefix, mapped in PREFIXES.items():
        if error.code.startswith(prefix):
            return mapped
    if error.status == 429:
        return TABLE["limit.rate"]
    return INTERNAL if error.status >= 500 else INVALID_PARAMETER


def metadata(request: Request) -> dict[str, Any]:
    """``ResponseMetadata``: the region is the one the caller signed for."""
    caller: SignedCaller | None = getattr(request.state, STATE_KEY, None)
    region = caller.signature.region if caller is not None else DEFAULT_REGION
    return {
        "RequestId": request_id(request),
        "Action": ACTION,
        "Version": VERSION,
        "Service": SERVICE,
        "Region": region,
    }


def _message(error: RestyleError) -> str:
    risk = risk_of(error.code)
    return error.message if risk is None else risk.describe(error.message)


def error_response(request: Request, error: RestyleError) -> JSONResponse:
    mapped = vendor_error(error)
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    body = {
        "ResponseMetadata": {
            **metadata(request),
            "Error": {"Code": mapped.code, "CodeN": mapped.code_n, "Message": _message(error)},
        }
    }
    return JSONResponse(body, status_code=mapped.status, headers=headers)
