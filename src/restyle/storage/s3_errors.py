"""S3 failures as restyle errors: one mapping for every S3 call (botocore has already retried).

- the object is missing -> NotFound ``file.not_found`` (as local storage);
- the bucket is missing -> ConfigurationError ``storage.bucket_missing``;
- the credentials are missing or refused -> ConfigurationError ``storage.access_denied``;
- no answer, timeouts, 5xx and throttling after every retry -> StorageUnavailable ``storage.unavailable``.
"""

from __future__ import annotations

from typing import Any

from restyle.errors import ConfigurationError, NotFound, RestyleError, StorageUnavailable

_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
_DENIED = {
    "AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
    "ExpiredToken", "AccountProblem", "AllAccessDisabled",
}  # fmt: skip


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a botocore ClientError, else None."""
    response: Any = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def error_code(exc: BaseException) -> str | None:
    """The S3 error code (``NoSuchKey``, ``AccessDenied``...) of a ClientError, else None."""
    response: Any = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code is not None else None


class S3ErrorMapper:
    """Turns botocore exceptions into restyle errors whose messages name the bucket and the key."""

    def __init__(self, where: str, max_attempts: int) -> None:
        self.where = where  # "bucket 'b' at http://endpoint"
        self.max_attempts = max_attempts

    def map(self, exc: BaseException, action: str, key: str) -> RestyleError:
        """The restyle error for a failed ``action`` ("store", "read", ...) on ``key``."""
        code, status = error_code(exc), status_of(exc)
        if code is None:
            return self._no_credentials(exc) or self._unreachable(exc, action, key)
        if action in ("read", "check") and (code in _MISSING_KEY or status == 404) and code != "NoSuchBucket":
            return NotFound(f"File '{key}' does not exist.", code="file.not_found")
        message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", "")) or str(exc)
        return self.refused(code, message, action, key, status)

    def refused(
        self, code: str, message: str, action: str, key: str, status: int | None = None
    ) -> RestyleError:
        """The error for an S3 answer ``code`` (a status or an S3 error code) to ``action``."""
        if code == "NoSuchBucket":
            return self._bucket_missing()
        if code in _DENIED or status == 403:
            return self._denied(code)
        if status is not None and status < 500 and code not in ("SlowDown", "RequestTimeout"):
            return StorageUnavailable(
                f"The S3 storage ({self.where}) refused to {action} '{key}': {code} {message}".rstrip() + ".",
                details={"s3_code": code, "s3_status": status},
            )
        return StorageUnavailable(
            f"The S3 storage ({self.where}) kept failing to {action} '{key}' after {self.max_attempts} "
            f"attempt(s) ({code}: {message or 'server error'}); nothing was stored half-way. "
            "Try again when the storage is back.",
            details={"s3_code": code, "s3_status": status},
        )

    def at_start(self, exc: BaseException) -> RestyleError:
        """The start-up check's error: HEAD bucket answers only a status, never a code."""
        code, status = error_code(exc), status_of(exc)
        if status == 404 or code in ("NoSuchBucket", "404"):
            return self._bucket_missing()
        if status == 403 or code in _DENIED:
            return self._denied(code or "403")
        if code is None:
            from botocore.exceptions import BotoCoreError

            if not isinstance(exc, BotoCoreError | OSError):
                raise exc
            return self._no_credentials(exc) or StorageUnavailable(
                f"The S3 storage ({self.where}) did not answer at start-up after {self.max_attempts} "
                f"attempt(s) ({type(exc).__name__}); check storage.options.endpoint_url and that the server is up."
            )
        return self.refused(code, str(exc), "reach", "the bucket", status)

    def _bucket_missing(self) -> RestyleError:
        return ConfigurationError(
            f"The S3 {self.where} does not exist; create it or set storage.options.bucket "
            "(RESTYLE_STORAGE__OPTIONS) to an existing bucket.",
            code="storage.bucket_missing",
        )

    def _denied(self, code: str) -> RestyleError:
        return ConfigurationError(
            f"The S3 storage refused the credentials for {self.where} ({code}); check AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or storage.options access_key_id / secret_access_key) and the bucket policy.",
            code="storage.access_denied",
        )

    def _no_credentials(self, exc: BaseException) -> RestyleError | None:
        from botocore.exceptions import NoCredentialsError, PartialCredentialsError

        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return ConfigurationError(
                f"No S3 credentials were found for {self.where}; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(or storage.options access_key_id / secret_access_key).",
                code="storage.access_denied",
            )
        return None

    def _unreachable(self, exc: BaseException, action: str, key: str) -> RestyleError:
        from botocore.exceptions import BotoCoreError

        if not isinstance(exc, BotoCoreError | OSError):
            raise exc  # not an S3 failure: a bug to see in the logs, not a storage outage
        return StorageUnavailable(
            f"The S3 storage ({self.where}) did not answer when asked to {action} '{key}' after "
            f"{self.max_attempts} attempt(s) ({type(exc).__name__}); nothing was stored half-way. "
            "Try again when the storage is back.",
        )
