"""The RestyleError hierarchy: a stable code, an HTTP status and a public message.

Errors are raised anywhere and mapped to a response in exactly one handler per front.
Never choose a status by matching exception text: use the ``code`` and ``status`` here.
"""

from __future__ import annotations

from typing import Any


class RestyleError(Exception):
    """Base of every error a user may see.

    ``code`` is a stable dotted string (``image.too_large``), ``status`` the HTTP status,
    ``message`` a complete sentence naming the parameter and the limit, ``param`` the
    offending parameter when there is one.
    """

    code: str = "internal"
    status: int = 500

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        param: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.param = param
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.param:
            out["param"] = self.param
        return out


class InvalidParameter(RestyleError):
    """A request parameter is missing, malformed or has the wrong type."""

    code = "param.invalid"
    status = 400


class ParameterOutOfRange(InvalidParameter):
    """A numeric parameter lies outside its allowed range or step."""

    code = "param.out_of_range"


class UnknownStyle(InvalidParameter):
    """The requested style preset does not exist."""

    code = "style.unknown"


class UnsupportedFeature(RestyleError):
    """The request asks for something this server does not (yet) do."""

    code = "feature.not_supported"
    status = 501


class ImageError(RestyleError):
    """Base for problems with an input image."""

    code = "image.invalid"
    status = 400


class ImageEmpty(ImageError):
    """The input image has no bytes."""

    code = "image.empty"


class ImageDecodeError(ImageError):
    """The input bytes are not a supported image or are truncated."""

    code = "image.invalid"


class ImageTooLarge(ImageError):
    """The input image exceeds a byte or pixel limit (including decompression bombs)."""

    code = "image.too_large"
    status = 413


class ImageTooSmall(ImageError):
    """The input image is smaller than the minimum size."""

    code = "image.too_small"


class FaceNotFound(RestyleError):
    """No face was found in the input image."""

    code = "face.not_found"
    status = 422


class MissingExtra(RestyleError):
    """An optional dependency needed by the configured plug-in is not installed."""

    code = "server.missing_extra"
    status = 503


class ConfigurationError(RestyleError):
    """The server configuration is invalid."""

    code = "server.config"
    status = 500


class AuthenticationError(RestyleError):
    """Missing or invalid credentials."""

    code = "auth.invalid"
    status = 401


class PermissionDenied(RestyleError):
    """The credentials are valid but lack the right for this operation."""

    code = "auth.forbidden"
    status = 403


class NotFound(RestyleError):
    """The task, file or account does not exist (or belongs to someone else)."""

    code = "not_found"
    status = 404


class Conflict(RestyleError):
    """The operation conflicts with the current state (e.g. cancel of a finished task)."""

    code = "conflict"
    status = 409


class RateLimited(RestyleError):
    """The account exceeded its submit rate."""

    code = "limit.rate"
    status = 429

    def __init__(self, message: str, *, retry_after: float = 1.0, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class QueueFull(RestyleError):
    """The global queue is full."""

    code = "limit.queue_full"
    status = 503


class TryLater(RestyleError):
    """A part of the service is not ready or not reachable right now: retry after ``retry_after`` seconds."""

    code = "service.unavailable"
    status = 503

    def __init__(self, message: str, *, retry_after: float = 5.0, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class StoreUnavailable(TryLater):
    """The task database cannot be reached (or stays busy): retry after ``retry_after`` seconds."""


class StorageUnavailable(RestyleError):
    """The object storage did not answer or kept failing after the configured retries."""

    code = "storage.unavailable"
    status = 503


class DeadlineExceeded(RestyleError):
    """A task did not finish within its deadline."""

    code = "task.deadline"
    status = 504


class TaskCanceled(RestyleError):
    """The task was canceled while running."""

    code = "task.canceled"
    status = 409


class InternalError(RestyleError):
    """An unexpected failure; details are logged, not shown."""

    code = "internal"
    status = 500


# --- URL inputs and callback URLs (issue 7): the address guard and fetching -----------------------


class UrlError(RestyleError):
    """Base for problems with a URL the server was asked to fetch from or deliver to."""

    code = "url.invalid"
    status = 400


class UrlInvalid(UrlError):
    """The URL is malformed, too long, has user info, or its scheme is not http or https."""

    code = "url.invalid"


class UrlForbidden(UrlError):
    """The URL's host is or resolves to an address the server must not reach (loopback, private, ...)."""

    code = "url.forbidden"


class UrlFetchFailed(UrlError):
    """The host did not resolve, the connection failed, or the server answered an error status."""

    code = "url.fetch_failed"


class UrlTimeout(UrlError):
    """The fetch did not finish within its connect or total timeout."""

    code = "url.timeout"


class UrlTooLarge(UrlError):
    """The response body is larger than the image byte limit."""

    code = "url.too_large"
    status = 413


class UrlNotImage(UrlError):
    """The response body does not start like any supported image format."""

    code = "url.not_image"


# --- Input formats and per-front input limits (issue 7): the decoder's distinct codes ---------------


class ImageTooManyPixels(ImageTooLarge):
    """The image declares more pixels than allowed (a decompression bomb is one case)."""

    code = "image.too_many_pixels"


class ImageSideTooLarge(ImageTooLarge):
    """A side of the image is longer than allowed, or it exceeds the front's width x height limit."""

    code = "image.side_too_large"


class ImageTruncated(ImageDecodeError):
    """The image's header was read but its pixels could not be decoded (truncated or corrupt)."""

    code = "image.truncated"


class ImageFormatNotAllowed(ImageError):
    """The image is in a format this front does not take (for example a GIF on a JPEG/PNG-only API)."""

    code = "image.format"
    status = 415


class ImageAspectRatio(ImageError):
    """The image is more elongated than the front allows and the front refuses rather than crops."""

    code = "image.aspect_ratio"


# --- processing actions and templates (issue 7: image/resize,w_100/...) ---


class ActionError(InvalidParameter):
    """A processing action string is malformed or a parameter has a bad value."""

    code = "action.invalid"


class UnknownAction(ActionError):
    """A processing action string names an action or a parameter that does not exist."""

    code = "action.unknown"


class ActionOutOfRange(ActionError):
    """A processing action's parameter lies outside its documented range."""

    code = "action.out_of_range"


class ActionTooLarge(RestyleError):
    """A step of a processing chain would produce more pixels than allowed."""

    code = "action.too_large"
    status = 413


class ActionDeadline(DeadlineExceeded):
    """A processing chain did not finish within its deadline."""

    code = "action.deadline"


class UnknownTemplate(NotFound):
    """A named processing template does not exist."""

    code = "template.unknown"


class TemplateInvalid(ConfigurationError):
    """A templates file cannot be read or one of its templates does not parse."""

    code = "template.invalid"


# --- AI-content labels (issue 8): visible label, metadata label, invisible watermark, C2PA ----------


class LabelOutOfRange(ParameterOutOfRange):
    """A label option (logo_info position, language or opacity) lies outside its documented range."""

    code = "label.out_of_range"


class LabelFontMissing(ConfigurationError):
    """No font that can draw the requested label text (a CJK font for "AI生成") was found."""

    code = "label.font_missing"


class LabelContainerError(RestyleError):
    """An encoded image could not take or give a metadata label (an unsupported or malformed file)."""

    code = "label.container"
    status = 500


class C2paNotConfigured(ConfigurationError):
    """C2PA signing was asked for but no usable certificate chain and key are configured."""

    code = "label.c2pa_config"


class C2paSigningFailed(RestyleError):
    """The C2PA library refused to sign or read a manifest."""

    code = "label.c2pa_failed"
    status = 500


# --- content safety (issue 8): image checks before and after generation, prompt blocklists ---------
# 422: the request is well formed but its content is refused (like face.not_found); each vendor front
# maps these codes to its own risk codes (Volcengine 50411 / 50511 / 50412 / 50413, HTTP 400).


class SafetyRefused(RestyleError):
    """Base of the content safety refusals; ``details`` says which stage and which class or list."""

    code = "safety.refused"
    status = 422


class InputImageUnsafe(SafetyRefused):
    """An input image was refused by the image safety check before generation (Volcengine 50411)."""

    code = "safety.input_image"


class OutputImageUnsafe(SafetyRefused):
    """A generated image was refused by the image safety check after generation (Volcengine 50511)."""

    code = "safety.output_image"


class InputTextUnsafe(SafetyRefused):
    """The prompt holds a term of a general blocklist (Volcengine 50412)."""

    code = "safety.input_text"


class InputTextProtectedName(SafetyRefused):
    """The prompt holds a name, brand or protected character of an IP blocklist (Volcengine 50413)."""

    code = "safety.input_text_ip"


# --- signed requests (issue 9): the Volcengine HMAC-SHA256 and TOS4-HMAC-SHA256 verifiers -----------
# Each vendor front maps these codes to its own in its error table (Volcengine 50400 with
# SignatureDoesNotMatch and friends; TOS SignatureDoesNotMatch / AccessDenied / RequestTimeTooSkewed).


class SignatureError(AuthenticationError):
    """Base of the signed-request refusals; ``details`` names the header or scope part at fault."""

    code = "auth.signature"


class SignatureMissing(SignatureError):
    """The request has no Authorization header, or one that is not a well-formed signature."""

    code = "auth.signature_missing"


class UnknownAccessKey(SignatureError):
    """The Credential names an access key id this server does not know."""

    code = "auth.unknown_key"


class SignedHeaderMissing(SignatureError):
    """A header the scheme requires (host, the date) is not signed, or a signed header was not sent."""

    code = "auth.signed_header_missing"


class UnsignedHeader(SignatureError):
    """A header that must be covered by the signature (a security token, an x-tos-* header) is not."""

    code = "auth.unsigned_header"


class RequestDateInvalid(SignatureError):
    """The X-Date / x-tos-date header is not a ``YYYYMMDDTHHMMSSZ`` time."""

    code = "auth.date_invalid"


class SignatureMismatch(SignatureError):
    """The signature is not the one the secret access key gives for this request."""

    code = "auth.signature_mismatch"
    status = 403


class RequestExpired(SignatureError):
    """The request was signed longer ago than the signature window (a late replay lands here)."""

    code = "auth.expired"
    status = 403


class RequestClockSkew(SignatureError):
    """The request's signing time lies further in the future than the signature window allows."""

    code = "auth.clock_skew"
    status = 403


class WrongScope(SignatureError):
    """The credential scope (date, region, service or terminator) is not what this endpoint serves."""

    code = "auth.wrong_scope"
    status = 403


class BodyHashMismatch(SignatureError):
    """The declared body hash (X-Content-Sha256 / x-tos-content-sha256) is not the body's SHA-256."""

    code = "auth.body_hash"
    status = 400


class SignatureReplayed(SignatureError):
    """The exact signed request was already accepted once within its window (replay guard on)."""

    code = "auth.replayed"
    status = 403


# --- vendor request shapes (issue 9): what a vendor front refuses before any task exists ------------
# The DashScope front maps these to ModelNotFound (404) and AccessDenied (403) in its error table.


class UnknownModel(InvalidParameter):
    """The request names a model this endpoint does not serve (a vendor front's ``model`` field)."""

    code = "model.unknown"


class AsyncCallRequired(InvalidParameter):
    """The endpoint only takes asynchronous submits and the request did not ask for one."""

    code = "request.async_required"
