"""A bucket's objects in the storage plug-in, with the metadata TOS answers with.

Layout under ``tos/<bucket id>/`` (storage.buckets): the bytes at ``o/<h[:2]>/<h>`` and a JSON record at ``m/<h[:2]>/<h>``,
where ``h`` is the SHA-256 of the object key. Hashing lets any TOS key (spaces, non-ASCII, ``a`` next
to ``a/b``) live in a storage whose keys are plain path segments; the record keeps the real key.
Processed copies (x-tos-process) are cached beside the bytes and removed with them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from restyle.api.fronts.tos.crc64 import crc64
from restyle.errors import Conflict, InvalidParameter, NotFound
from restyle.imaging.derived import delete_with_derived, derived_prefix
from restyle.storage import Storage
from restyle.storage.buckets import BucketRow, bucket_prefix

MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class ObjectMeta:
    """What HeadObject and ListObjectsV2 report about an object."""

    key: str
    size: int
    etag: str  # hex MD5, without quotes
    crc64: int
    content_type: str
    last_modified: str  # ISO time, UTC, with milliseconds
    user_meta: dict[str, str] = field(default_factory=dict)  # x-tos-meta-* headers

    @property
    def modified(self) -> datetime:
        return datetime.fromisoformat(self.last_modified)


def check_key(key: str) -> str:
    """``key`` if TOS accepts it as an object name, else InvalidParameter (``object.key_invalid``)."""
    size = len(key.encode())
    if not key or size > MAX_KEY_BYTES or key.startswith("/") or any(ord(c) < 32 for c in key):
        raise InvalidParameter(
            f"Object key '{key[:100]}' is not valid; use 1 to {MAX_KEY_BYTES} bytes, no leading '/' "
            "and no control characters.",
            code="object.key_invalid",
            param="key",
        )
    return key


def object_exists(key: str) -> Conflict:
    """The refusal of a write that must not replace the object ``key`` (``x-tos-forbid-overwrite``,
    ``ForbiddenOverwrite``)."""
    return Conflict(
        f"The object '{key[:200]}' already exists and the request forbids overwriting it.",
        code="object.exists",
    )


class ObjectStore:
    """Objects of TOS buckets, kept in ``storage`` under ``tos/<bucket id>/``."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def _hashed(self, bucket: BucketRow, kind: str, key: str) -> str:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"{bucket_prefix(bucket)}/{kind}/{digest[:2]}/{digest}"

    def data_key(self, bucket: BucketRow, key: str) -> str:
        """The storage key of the object's bytes (processed copies are cached beside it)."""
        return self._hashed(bucket, "o", check_key(key))

    def put(
        self,
        bucket: BucketRow,
        key: str,
        data: bytes,
        content_type: str,
        user_meta: dict[str, str],
        *,
        if_absent: bool = False,
    ) -> ObjectMeta:
        """Store ``data`` (replacing any older object and its processed copies) and its record.

        With ``if_absent`` the object is created only if the key holds none, in one atomic step
        (Conflict ``object.exists`` otherwise), so of two writers racing for a key exactly one wins.
        """
        data_key = self.data_key(bucket, key)
        meta_key = self._hashed(bucket, "m", key)
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        meta = ObjectMeta(
            key, len(data), hashlib.md5(data).hexdigest(), crc64(data), content_type, now, user_meta
        )
        record = json.dumps(asdict(meta)).encode()
        if if_absent:
            # 1. the record claims the key atomically (it is complete: size, hashes, type); 2. the
            # bytes follow. Until they land a GET answers NoSuchKey, never another writer's bytes.
            if not self.storage.put_if_absent(meta_key, record):
                raise object_exists(key)
            try:
                self.storage.put(data_key, data, content_type)
                self.storage.delete_prefix(derived_prefix(data_key))
            except BaseException:
                self.storage.delete(meta_key)  # the claim goes with a failed write
                raise
            return meta
        # the bytes replace the old ones atomically; then the old bytes' processed copies go
        self.storage.put(data_key, data, content_type)
        self.storage.delete_prefix(derived_prefix(data_key))
        self.storage.put(meta_key, record)
        return meta

    def head(self, bucket: BucketRow, key: str) -> ObjectMeta:
        """The object's record; NotFound (``object.not_found``) when there is none."""
        try:
            blob = self.storage.get(self._hashed(bucket, "m", check_key(key)))
        except NotFound:
            raise NotFound(
                f"The object '{key[:200]}' does not exist in bucket '{bucket.name}'.", code="object.not_found"
            ) from None
        return ObjectMeta(**json.loads(blob))

    def exists(self, bucket: BucketRow, key: str) -> bool:
        return self.storage.exists(self._hashed(bucket, "m", check_key(key)))

    def get(self, bucket: BucketRow, key: str) -> tuple[ObjectMeta, bytes]:
        meta = self.head(bucket, key)
        try:
            return meta, self.storage.get(self.data_key(bucket, key))
        except NotFound:  # deleted between the two reads
            raise NotFound(
                f"The object '{key[:200]}' does not exist in bucket '{bucket.name}'.", code="object.not_found"
            ) from None

    def delete(self, bucket: BucketRow, key: str) -> None:
        """Remove the object, its record and its processed copies; a missing object is no error."""
        self.storage.delete(self._hashed(bucket, "m", check_key(key)))
        delete_with_derived(self.storage, self.data_key(bucket, key))

    def list(self, bucket: BucketRow) -> list[ObjectMeta]:
        """Every object of the bucket, sorted by key (reads each record: O(objects))."""
        records = self.storage.list_prefix(f"{bucket_prefix(bucket)}/m")
        metas = []
        for record in records:
            try:
                metas.append(ObjectMeta(**json.loads(self.storage.get(record))))
            except NotFound:  # deleted while listing
                continue
        return sorted(metas, key=lambda meta: meta.key)

    def is_empty(self, bucket: BucketRow) -> bool:
        return not self.storage.list_prefix(f"{bucket_prefix(bucket)}/m")

    def drop(self, bucket: BucketRow) -> None:
        """Remove everything stored for ``bucket``."""
        self.storage.delete_prefix(bucket_prefix(bucket))
