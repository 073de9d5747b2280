"""The TOS front's one error table (restyle error code -> TOS ``Code`` and HTTP status) and the
``{"Code", "Message", "RequestId", "HostId", "Resource", "EC"}`` body every refusal answers with.

A HEAD request gets the same status and headers with an empty body, as TOS does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from restyle.api.errors import request_id
from restyle.api.fronts.models.risk import RISKS, risk_of
from restyle.api.fronts.routing import vendor_route
from restyle.errors import RestyleError


@dataclass(frozen=True)
class VendorError:
    """A TOS error: its ``Code`` and the HTTP status it carries."""

    code: str
    status: int


ACCESS_DENIED = VendorError("AccessDenied", 403)
INVALID_ARGUMENT = VendorError("InvalidArgument", 400)
TIME_SKEWED = VendorError("RequestTimeTooSkewed", 403)
NOT_IMPLEMENTED = VendorError("NotImplemented", 501)
INTERNAL = VendorError("InternalError", 500)
RISK_NOT_PASS = VendorError("RiskNotPass", 400)  # GUESS: TOS names no code for aigc's content checks

TABLE: dict[str, VendorError] = {
    # credentials and signatures
    "auth.invalid": ACCESS_DENIED,
    "auth.forbidden": ACCESS_DENIED,
    "auth.signature": ACCESS_DENIED,
    "auth.signature_missing": ACCESS_DENIED,
    "auth.signed_header_missing": ACCESS_DENIED,
    "auth.unsigned_header": ACCESS_DENIED,
    "auth.date_invalid": ACCESS_DENIED,
    "auth.wrong_scope": ACCESS_DENIED,
    "auth.replayed": ACCESS_DENIED,
    "auth.signature_mismatch": VendorError("SignatureDoesNotMatch", 403),
    "auth.unknown_key": VendorError("InvalidAccessKeyId", 403),
    "auth.access_key": VendorError("InvalidAccessKeyId", 403),
    "auth.expired": TIME_SKEWED,
    "auth.clock_skew": TIME_SKEWED,
    "auth.body_hash": VendorError("ContentSHA256Mismatch", 400),
    # buckets and objects
    "bucket.not_found": VendorError("NoSuchBucket", 404),
    "bucket.exists": VendorError("BucketAlreadyExists", 409),
    "bucket.owned": VendorError("BucketAlreadyOwnedByYou", 409),
    "bucket.not_empty": VendorError("BucketNotEmpty", 409),
    "bucket.name_invalid": VendorError("InvalidBucketName", 400),
    "bucket.missing": VendorError("InvalidBucketName", 400),
    "object.not_found": VendorError("NoSuchKey", 404),
    "object.key_invalid": VendorError("InvalidObjectName", 400),
    "object.exists": VendorError("FileAlreadyExists", 409),
    "object.bad_digest": VendorError("BadDigest", 400),
    "request.too_large": VendorError("EntityTooLarge", 400),
    "request.method": VendorError("MethodNotAllowed", 405),
    "request.range": VendorError("InvalidRange", 416),
    "limit.rate": VendorError("ExceedAccountQPSLimit", 429),  # 429: the SDK retries with backoff
    "limit.queue_full": VendorError("ServiceUnavailable", 503),
    # image processing (x-tos-process) and everything else about parameters
    "param.invalid": INVALID_ARGUMENT,
    "param.out_of_range": INVALID_ARGUMENT,
    "template.unknown": INVALID_ARGUMENT,
    "action.too_large": INVALID_ARGUMENT,
    "action.deadline": INVALID_ARGUMENT,
    "feature.not_supported": NOT_IMPLEMENTED,
    # content checks (aigc): the model's risk number goes in EC (see error_response)
    **{code: RISK_NOT_PASS for code in RISKS},
    "storage.list_unsupported": NOT_IMPLEMENTED,
    "internal": INTERNAL,
}

# A code the table does not name still gets a TOS code of its status family.
BY_STATUS: dict[int, VendorError] = {
    401: ACCESS_DENIED,
    403: ACCESS_DENIED,
    404: VendorError("NoSuchKey", 404),
    413: VendorError("EntityTooLarge", 400),
    415: INVALID_ARGUMENT,
    501: NOT_IMPLEMENTED,
}


def vendor_error(error: RestyleError) -> VendorError:
    """The TOS code and status for ``error``, chosen by its restyle code (then its status)."""
    if error.code in TABLE:
        return TABLE[error.code]
    if risk_of(error.code) is not None:
        return RISK_NOT_PASS
    if error.status in BY_STATUS:
        return BY_STATUS[error.status]
    return INTERNAL if error.status >= 500 else INVALID_ARGUMENT


def error_response(request: Request, error: RestyleError) -> Response:
    """The TOS error response; HEAD answers with the headers only."""
    mapped = vendor_error(error)
    rid = request_id(request)
    risk = risk_of(error.code)
    # EC: restyle's error code; for a content check, the model API's risk number (50411, 50511, ...)
    ec = error.code if risk is None else str(risk.code)
    message = error.message if risk is None else risk.describe(error.message)
    headers = {"x-tos-request-id": rid, "x-tos-id-2": rid, "x-tos-ec": ec}
    if request.method == "HEAD":
        return Response(status_code=mapped.status, headers=headers)
    body = {
        "Code": mapped.code,
        "Message": message,
        "RequestId": rid,
        "HostId": request.headers.get("host", ""),
        "Resource": request.scope.get("tos_resource", request.url.path),
        "EC": ec,
    }
    return Response(
        json_bytes(body), status_code=mapped.status, headers=headers, media_type="application/json"
    )


def json_bytes(body: Any) -> bytes:
    """Compact UTF-8 JSON, as TOS answers."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


TosRoute = vendor_route(error_response)  # failures answered in the vendor's error body
