"""What every TOS operation works with: the verified caller, the target and the response headers."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from fastapi import Request

from restyle.api.errors import request_id
from restyle.api.fronts.tos.objects import ObjectStore
from restyle.api.fronts.tos.target import TosTarget
from restyle.api.services import Services
from restyle.auth.models import AccountRow
from restyle.errors import InvalidParameter, NotFound, PermissionDenied
from restyle.storage.buckets import BucketRow, BucketStore

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def check_bucket_name(name: str) -> str:
    """``name`` if it is a valid TOS bucket name, else InvalidParameter (``bucket.name_invalid``)."""
    if not _BUCKET_NAME.match(name):
        raise InvalidParameter(
            f"Bucket name '{name[:70]}' is not valid; use 3 to 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit.",
            code="bucket.name_invalid",
            param="bucket",
        )
    return name


@dataclass
class TosCall:
    """One verified TOS request."""

    request: Request
    services: Services
    account: AccountRow
    target: TosTarget

    @property
    def buckets(self) -> BucketStore:
        return BucketStore(self.services.db)

    @property
    def objects(self) -> ObjectStore:
        return ObjectStore(self.services.storage)

    @property
    def bucket(self) -> str:
        """The bucket the request names; InvalidParameter when the host names none."""
        if not self.target.bucket:
            raise InvalidParameter(
                f"The host '{self.target.host}' names no bucket; use BUCKET.tos-REGION.volces.com "
                "(through a proxy) or a domain listed in tos.custom_domains.",
                code="bucket.missing",
                param="bucket",
            )
        return check_bucket_name(self.target.bucket)

    def headers(self) -> dict[str, str]:
        rid = request_id(self.request)
        return {"x-tos-request-id": rid, "x-tos-id-2": rid, "server": "restyle"}

    async def owned(self, name: str) -> BucketRow:
        """The caller's bucket ``name``: NoSuchBucket when missing, AccessDenied when another's."""
        row = await asyncio.to_thread(self.buckets.get, check_bucket_name(name))
        if row.account_id != self.account.id:
            raise PermissionDenied(f"Access to bucket '{name}' is denied; it belongs to another account.")
        return row

    async def still_owned(self, bucket: BucketRow) -> BucketRow:
        """``bucket`` checked again right before a write that took a while (an upload, a generation):
        still there, still the caller's, and the same bucket, not one made again under its name."""
        row = await self.owned(bucket.name)
        if row.id != bucket.id:
            raise NotFound(
                f"The bucket '{bucket.name}' was deleted while the request ran; nothing was stored.",
                code="bucket.not_found",
            )
        return row
