"""The veImageX front's one error table (restyle error code -> OpenAPI ``Code``, ``CodeN`` and HTTP
status) and the ``ResponseMetadata`` every answer carries.

A refusal is ``{"ResponseMetadata": {..., "Error": {"Code", "CodeN", "Message"}}}`` with the table's
HTTP status: the ImageX SDK raises on any ``ResponseMetadata.Error`` and on any status other than 200,
so both carry the same information; other clients get the vendor's status. The seed lists no codes of
its own ("本接口无特有的错误码"); the codes below follow Volcengine's common OpenAPI names, and the
``CodeN`` numbers are restyle's, kept here so they are easy to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from restyle.api.errors import request_id
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


INVALID_PARAMETER = VendorError("InvalidParameter", 100004, 400)
INVALID_ACCESS_KEY = VendorError("InvalidAccessKey", 100009, 401)
SIGNATURE_MISMATCH = VendorError("SignatureDoesNotMatch", 100010, 401)
INVALID_TIMESTAMP = VendorError("InvalidTimestamp", 100011, 401)
ACCESS_DENIED = VendorError("AccessDenied", 100013, 403)
INTERNAL = VendorError("InternalError", 100023, 500)

TABLE: dict[str, VendorError] = {
    # credentials and signatures
    "auth.unknown_key": INVALID_ACCESS_KEY,
    "auth.access_key": INVALID_ACCESS_KEY,
    "auth.signature_mismatch": SIGNATURE_MISMATCH,
    "auth.expired": INVALID_TIMESTAMP,
    "auth.clock_skew": INVALID_TIMESTAMP,
    "auth.date_invalid": INVALID_TIMESTAMP,
    "auth.wrong_scope": ACCESS_DENIED,
    "auth.forbidden": ACCESS_DENIED,
    # the call itself
    "action.unknown": VendorError("InvalidActionOrVersion", 100002, 404),
    "imagex.service_not_found": VendorError("ServiceNotFound", 604001, 404),
    "imagex.exists": VendorError("FileAlreadyExists", 604002, 409),
    "imagex.image_not_found": VendorError("ImageNotFound", 604003, 404),
    "template.unknown": VendorError("TemplateNotFound", 604004, 404),
    "model.unknown": VendorError("InvalidModel", 604005, 400),
    # the model's content checks keep the model API's numbers
    "safety.input_image": VendorError("RiskNotPass", 50411, 400),
    "safety.output_image": VendorError("RiskNotPass", 50511, 400),
    "safety.input_text": VendorError("RiskNotPass", 50412, 400),
    "safety.input_text_ip": VendorError("RiskNotPass", 50413, 400),
    "safety.refused": VendorError("RiskNotPass", 50411, 400),
    # limits and tasks
    "limit.rate": VendorError("FlowLimitExceeded", 100018, 429),
    "limit.queue_full": VendorError("FlowLimitExceeded", 100018, 429),
    "task.deadline": VendorError("RequestTimeout", 100024, 504),
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


def error_response(request: Request, error: RestyleError) -> JSONResponse:
    mapped = vendor_error(error)
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    body = {
        "ResponseMetadata": {
            **metadata(request),
            "Error": {"Code": mapped.code, "CodeN": mapped.code_n, "Message": error.message},
        }
    }
    return JSONResponse(body, status_code=mapped.status, headers=headers)
