"""S3-compatible object storage (boto3): the same keys as local storage, under an optional prefix.

Selected by ``storage.kind = s3``; options come from ``storage.options`` (see :class:`S3Options`) and
credentials from the options or the usual AWS chain (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, profiles, instance roles). Every request is retried by botocore with
exponential backoff; what still fails becomes a typed error (:mod:`restyle.storage.s3_errors`).
A PUT is atomic in S3, and a multipart upload that fails is aborted, so no reader ever sees half an
object.
"""

from __future__ import annotations

import contextlib
import mimetypes
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from restyle.errors import ConfigurationError, MissingExtra
from restyle.storage.base import Storage, validate_key
from restyle.storage.s3_errors import S3ErrorMapper, status_of

MIB = 1024 * 1024
MIN_PART_BYTES = 5 * MIB  # S3's smallest part (all but the last)
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs live at most 7 days
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys


class S3Options(BaseModel):
    """``storage.options`` of the S3 storage (``RESTYLE_STORAGE__OPTIONS='{"bucket": "..."}'``)."""

    model_config = ConfigDict(extra="forbid")

    bucket: Annotated[str, Field(min_length=3, max_length=63)]
    prefix: str = ""  # keys live under "<prefix>/"; empty = the bucket's root
    endpoint_url: str | None = None  # MinIO, Ceph, moto, ...; default: AWS for ``region``
    region: str | None = None  # default: AWS_DEFAULT_REGION / the profile's region / us-east-1
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    access_key_id: str | None = None  # default: the AWS credential chain
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None
    # proxy: restyle-signed links served by the API (works wherever the API works: private buckets,
    # the web studio's same-origin images, ?x-process on links); presigned: result links point at S3
    # itself (downloads skip the API; clients must reach public_endpoint_url or endpoint_url)
    links: Literal["proxy", "presigned"] = "proxy"
    public_endpoint_url: str | None = None  # the endpoint clients reach, for presigned links
    multipart_threshold_bytes: Annotated[int, Field(ge=MIN_PART_BYTES)] = 16 * MIB
    multipart_part_bytes: Annotated[int, Field(ge=MIN_PART_BYTES)] = 8 * MIB
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 4  # per request, first try included
    connect_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    read_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    max_pool_connections: Annotated[int, Field(ge=1)] = 32
    verify_tls: bool = True
    check_bucket: bool = True  # head the bucket when the storage is created (fail at start-up)


def parse_options(options: dict[str, Any]) -> S3Options:
    """Validated options, or a ConfigurationError that names each bad ``storage.options`` key."""
    try:
        return S3Options.model_validate(options)
    except ValidationError as exc:
        problems = "; ".join(
            f"storage.options.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(
            f"The S3 storage settings are invalid: {problems} (set them in RESTYLE_STORAGE__OPTIONS as JSON).",
            code="storage.config",
        ) from None


class S3Storage(Storage):
    """Objects in one S3 bucket; key ``k`` is object ``<prefix>/k``."""

    name = "s3"

    def __init__(self, **options: Any) -> None:
        self.options = parse_options(options)
        self.bucket = self.options.bucket
        self.prefix = (
            validate_key(self.options.prefix.strip("/")) + "/" if self.options.prefix.strip("/") else ""
        )
        where = f"bucket '{self.bucket}'" + (
            f" at {self.options.endpoint_url}" if self.options.endpoint_url else ""
        )
        self._errors = S3ErrorMapper(where, self.options.max_attempts)
        self._client = self._make_client(self.options.endpoint_url)
        self._presigner = (
            self._make_client(self.options.public_endpoint_url)
            if self.options.public_endpoint_url
            else self._client
        )
        if self.options.check_bucket:
            self.check_bucket()

    def _make_client(self, endpoint_url: str | None) -> Any:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise MissingExtra(
                "The S3 storage needs boto3: pip install 'restyle[distributed]'.", code="server.missing_extra"
            ) from None
        opts = self.options
        config = Config(
            retries={"total_max_attempts": opts.max_attempts, "mode": "standard"},
            connect_timeout=opts.connect_timeout_seconds,
            read_timeout=opts.read_timeout_seconds,
            max_pool_connections=opts.max_pool_connections,
            s3={"addressing_style": opts.addressing_style},
            signature_version="s3v4",
        )
        session = boto3.session.Session(
            aws_access_key_id=opts.access_key_id,
            aws_secret_access_key=opts.secret_access_key.get_secret_value()
            if opts.secret_access_key
            else None,
            aws_session_token=opts.session_token.get_secret_value() if opts.session_token else None,
            region_name=opts.region,
        )
        region = session.region_name or "us-east-1"
        return session.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config, verify=opts.verify_tls
        )

    def _object(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _folder(self, prefix: str) -> str:
        return self._object(prefix.rstrip("/")) + "/"

    # -- start-up and health ---------------------------------------------------------------------

    def check_bucket(self) -> None:
        """Raise a clear error unless the bucket exists and the credentials may use it."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            raise self._errors.at_start(exc) from None

    def healthcheck(self) -> bool:
        try:
            self.check_bucket()
        except Exception:
            return False
        return True

    # -- writes ----------------------------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self._write(key, data, content_type, if_absent=False)

    def put_if_absent(self, key: str, data: bytes, content_type: str | None = None) -> bool:
        # S3 conditional writes: If-None-Match: * makes the create atomic (412 when the key exists)
        for attempt in range(1, self.options.max_attempts + 1):
            try:
                return self._write(key, data, content_type, if_absent=True)
            except _ConflictingWrite:
                # 409: another conditional write to this key is in flight; its outcome decides
                time.sleep(0.05 * 2**attempt)
        return False  # still contended: another writer holds the key, this one wrote nothing

    def _write(self, key: str, data: bytes, content_type: str | None, *, if_absent: bool) -> bool:
        name = self._object(key)
        extra: dict[str, Any] = {"ContentType": content_type or _guess_type(key)}
        condition = {"IfNoneMatch": "*"} if if_absent else {}
        try:
            if len(data) >= self.options.multipart_threshold_bytes:
                self._multipart(name, data, extra, condition)
            else:
                self._client.put_object(Bucket=self.bucket, Key=name, Body=data, **extra, **condition)
        except Exception as exc:
            status = status_of(exc)
            if if_absent and status == 412:
                return False
            if if_absent and status == 409:
                raise _ConflictingWrite() from exc
            raise self._errors.map(exc, "store", key) from None
        return True

    def _multipart(self, name: str, data: bytes, extra: dict[str, Any], condition: dict[str, str]) -> None:
        """Upload in parts; on any failure the upload is aborted so that no part is left behind."""
        size = self.options.multipart_part_bytes
        upload_id = self._client.create_multipart_upload(Bucket=self.bucket, Key=name, **extra)["UploadId"]
        try:
            parts = []
            for number, offset in enumerate(range(0, len(data), size), start=1):
                answer = self._client.upload_part(
                    Bucket=self.bucket,
                    Key=name,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=data[offset : offset + size],
                )
                parts.append({"ETag": answer["ETag"], "PartNumber": number})
            self._client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                **condition,
            )
        except BaseException:
            with contextlib.suppress(Exception):  # the server is gone: a lifecycle rule removes the parts
                self._client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            raise

    # -- reads -----------------------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        name = self._object(key)
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=name)
            data: bytes = answer["Body"].read()
        except Exception as exc:
            raise self._errors.map(exc, "read", key) from None
        return data

    def exists(self, key: str) -> bool:
        name = self._object(key)
        try:
            self._client.head_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            if status_of(exc) == 404:
                return False
            raise self._errors.map(exc, "check", key) from None
        return True

    def list_prefix(self, prefix: str) -> list[str]:
        return sorted(name[len(self.prefix) :] for name in self._names(prefix))

    def _names(self, prefix: str) -> list[str]:
        folder = self._folder(prefix)
        names: list[str] = []
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder
            ):
                names.extend(item["Key"] for item in page.get("Contents", []))
        except Exception as exc:
            raise self._errors.map(exc, "list", prefix) from None
        return names

    # -- deletes ---------------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        name = self._object(key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            if status_of(exc) == 404:
                return
            raise self._errors.map(exc, "delete", key) from None

    def delete_prefix(self, prefix: str) -> int:
        names = self._names(prefix)
        for start in range(0, len(names), _DELETE_BATCH):
            batch = [{"Key": name} for name in names[start : start + _DELETE_BATCH]]
            try:
                answer = self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except Exception as exc:
                raise self._errors.map(exc, "delete", prefix) from None
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise self._errors.refused(
                    first.get("Code", "?"), first.get("Message", ""), "delete", first["Key"]
                )
        return len(names)

    # -- links -----------------------------------------------------------------------------------

    def direct_url(self, key: str, ttl_seconds: int) -> str | None:
        """A presigned GET link to ``key`` when ``links`` is ``presigned``; None for links via the API."""
        if self.options.links != "presigned":
            return None
        url: str = self._presigner.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._object(key)},
            ExpiresIn=max(1, min(MAX_PRESIGN_SECONDS, ttl_seconds)),
        )
        return url


class _ConflictingWrite(Exception):
    """S3 answered 409 ConditionalRequestConflict: another conditional write to the key is in flight."""


def _guess_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"
