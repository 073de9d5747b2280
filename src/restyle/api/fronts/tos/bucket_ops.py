"""Bucket-level TOS operations: CreateBucket, HeadBucket, DeleteBucket, ListBuckets, ListObjectsV2."""

from __future__ import annotations

import asyncio

from fastapi import Response

from restyle.api.fronts.tos.context import TosCall, check_bucket_name
from restyle.api.fronts.tos.errors import json_bytes
from restyle.api.fronts.tos.listing import decode_token, list_page, page_body, parse_max_keys
from restyle.errors import Conflict, NotFound
from restyle.storage.buckets import BucketRow


def _endpoint(region: str) -> str:
    return f"tos-{region}.volces.com"


def _json(call: TosCall, body: object, status: int = 200) -> Response:
    return Response(
        json_bytes(body), status_code=status, headers=call.headers(), media_type="application/json"
    )


async def create_bucket(call: TosCall) -> Response:
    name = call.bucket
    region = call.services.settings.tos.region
    try:
        existing: BucketRow | None = await asyncio.to_thread(call.buckets.get, name)
    except NotFound:
        existing = None
    if existing is not None and existing.account_id == call.account.id:
        raise Conflict(f"You already own the bucket '{name}'.", code="bucket.owned")
    # a new bucket has a new storage id: nothing an earlier bucket of this name left can show in it
    await asyncio.to_thread(call.buckets.create, name, call.account.id, region)
    return Response(status_code=200, headers={**call.headers(), "Location": f"/{name}"})


async def head_bucket(call: TosCall) -> Response:
    row = await call.owned(call.bucket)
    headers = {**call.headers(), "x-tos-bucket-region": row.region, "x-tos-storage-class": "STANDARD"}
    return Response(status_code=200, headers=headers)


async def delete_bucket(call: TosCall) -> Response:
    row = await call.owned(call.bucket)
    if not await asyncio.to_thread(call.objects.is_empty, row):
        raise Conflict(
            f"The bucket '{row.name}' is not empty; delete its objects before the bucket.",
            code="bucket.not_empty",
        )
    await asyncio.to_thread(call.buckets.delete, row)
    await asyncio.to_thread(call.objects.drop, row)
    return Response(status_code=204, headers=call.headers())


async def list_buckets(call: TosCall) -> Response:
    rows = await asyncio.to_thread(call.buckets.list, call.account.id)
    body = {
        "Owner": {"ID": call.account.id, "Name": call.account.name},
        "Buckets": [
            {
                "Name": row.name,
                "CreationDate": row.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "Location": row.region,
                "ExtranetEndpoint": _endpoint(row.region),
                "IntranetEndpoint": f"tos-{row.region}.ivolces.com",
            }
            for row in rows
        ],
    }
    return _json(call, body)


async def list_objects(call: TosCall) -> Response:
    """ListObjectsV2 (a plain GET of the bucket is answered the same way)."""
    row = await call.owned(call.bucket)
    query = call.request.query_params
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    max_keys = parse_max_keys(query.get("max-keys"))
    token = query.get("continuation-token") or None
    start_after = query.get("start-after", "")
    after = decode_token(token) if token else start_after
    metas = await asyncio.to_thread(call.objects.list, row)
    page = list_page(metas, prefix=prefix, delimiter=delimiter, max_keys=max_keys, after=after)
    owner = {"ID": call.account.id, "DisplayName": call.account.name}
    body = page_body(
        page,
        bucket=check_bucket_name(row.name),
        prefix=prefix,
        delimiter=delimiter,
        max_keys=max_keys,
        token=token,
        start_after=start_after,
        owner=owner,
    )
    return _json(call, body)
