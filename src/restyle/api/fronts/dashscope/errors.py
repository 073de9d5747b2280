"""The DashScope front's one error table (restyle error code -> DashScope code and HTTP status) and
the ``{"request_id", "code", "message"}`` body every refused request of this front answers with.

A failed task uses the same table for its ``output.code``; its HTTP status stays 200.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse

from restyle.api.errors import request_id
from restyle.api.fronts.routing import vendor_route
from restyle.errors import RateLimited, RestyleError


@dataclass(frozen=True)
class VendorError:
    """A DashScope error: its ``code`` string and the HTTP status a refused request carries."""

    code: str
    status: int


INVALID_PARAMETER = VendorError("InvalidParameter", 400)
INVALID_URL = VendorError("InvalidURL", 400)  # [004] "make sure the url is correct and is an image"
IMAGE_RESOLUTION = VendorError("InvalidImageResolution", 400)  # [004] "resolution is too large or small"
DATA_INSPECTION = VendorError("DataInspectionFailed", 400)
INTERNAL = VendorError("InternalServerError", 500)

TABLE: dict[str, VendorError] = {
    # credentials and the calling convention
    "auth.invalid": VendorError("InvalidApiKey", 401),
    "auth.forbidden": VendorError("AccessDenied", 403),
    "request.async_required": VendorError("AccessDenied", 403),
    "model.unknown": VendorError("ModelNotFound", 404),
    # parameters
    "param.invalid": INVALID_PARAMETER,
    "param.out_of_range": INVALID_PARAMETER,
    "style.unknown": INVALID_PARAMETER,
    "request.invalid_json": INVALID_PARAMETER,
    "request.too_large": INVALID_PARAMETER,
    "idempotency.mismatch": INVALID_PARAMETER,
    "feature.not_supported": VendorError("UnsupportedOperation", 400),
    # URL inputs: refused at submit (address guard) or when the worker fetches them
    "url.invalid": INVALID_URL,
    "url.forbidden": INVALID_URL,
    "url.fetch_failed": INVALID_URL,
    "url.timeout": INVALID_URL,
    "url.too_large": INVALID_URL,
    "url.not_image": INVALID_URL,
    # the image behind the URL: not a JPEG/PNG/BMP/WebP image, or outside 256x256..5760x3240
    "image.invalid": INVALID_URL,
    "image.empty": INVALID_URL,
    "image.truncated": INVALID_URL,
    "image.format": INVALID_URL,
    "image.too_large": INVALID_PARAMETER,  # over 10 MB
    "image.too_small": IMAGE_RESOLUTION,
    "image.side_too_large": IMAGE_RESOLUTION,
    "image.too_many_pixels": IMAGE_RESOLUTION,
    "image.aspect_ratio": IMAGE_RESOLUTION,
    "face.not_found": INVALID_PARAMETER,
    # content checks
    "safety.refused": DATA_INSPECTION,
    "safety.input_image": DATA_INSPECTION,
    "safety.output_image": DATA_INSPECTION,
    "safety.input_text": DATA_INSPECTION,
    "safety.input_text_ip": VendorError("IPInfringementSuspect", 400),
    # limits
    "limit.rate": VendorError("Throttling.RateQuota", 429),
    "limit.queue_full": VendorError("Throttling", 429),
    # tasks
    "not_found": VendorError("NotFound", 404),
    "task.not_found": VendorError("NotFound", 404),
    "conflict": VendorError("UnsupportedOperation", 400),
    "task.final": VendorError("UnsupportedOperation", 400),
    "task.deadline": INTERNAL,
    "task.lost": INTERNAL,
    "internal": INTERNAL,
}

# A code the table does not name (a new error class) still gets a vendor code of its status family.
BY_STATUS: dict[int, VendorError] = {
    401: TABLE["auth.invalid"],
    403: VendorError("AccessDenied", 403),
    404: VendorError("NotFound", 404),
    429: VendorError("Throttling", 429),
}


def vendor_error(error: RestyleError) -> VendorError:
    """The DashScope code and status for ``error``, chosen by its restyle code (then its status)."""
    if error.code in TABLE:
        return TABLE[error.code]
    if error.status in BY_STATUS:
        return BY_STATUS[error.status]
    return INTERNAL if error.status >= 500 else INVALID_PARAMETER


# seed [004]'s messages of its own codes: a message with one of these codes starts with them
SEED_MESSAGES = {
    "InvalidURL": "The request URL is invalid, make sure the url is correct and is an image",
    "InvalidImageResolution": "The input image resolution is too large or small",
}


def vendor_message(code: str, reason: str) -> str:
    """The message of a refusal or failed task: the seed's words for ``code`` (if any), then restyle's."""
    words = SEED_MESSAGES.get(code)
    return reason if words is None else f"{words}: {reason}"


def error_body(error: RestyleError, request_id_value: str) -> dict[str, str]:
    """The body of a refused request: ``{"request_id", "code", "message"}`` (no ``output``)."""
    code = vendor_error(error).code
    return {"request_id": request_id_value, "code": code, "message": vendor_message(code, error.message)}


def error_response(request: Request, error: RestyleError) -> JSONResponse:
    mapped = vendor_error(error)
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    return JSONResponse(error_body(error, request_id(request)), status_code=mapped.status, headers=headers)


DashScopeRoute = vendor_route(error_response)  # failures answered in the vendor's error body


def failure_code(code: str | None) -> str:
    """``output.code`` of a FAILED task: its restyle error code through the table (unknown codes are
    the server's own failures)."""
    mapped = TABLE.get(code or "")
    return mapped.code if mapped is not None else INTERNAL.code
