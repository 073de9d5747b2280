"""ListObjectsV2 over a bucket's sorted records: prefix, delimiter, max-keys, start-after and an
opaque continuation token (the last key or common prefix returned, URL-safe base64)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from restyle.api.fronts.tos.objects import ObjectMeta
from restyle.errors import InvalidParameter

MAX_KEYS = 1000


@dataclass
class ListPage:
    """One page of a listing: objects and common prefixes in key order, and where to go on."""

    contents: list[ObjectMeta] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    next_token: str | None = None


def encode_token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode()).decode()


def decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidParameter(
            "Parameter 'continuation-token' is not a token this server returned; start the listing again.",
            param="continuation-token",
        ) from None


def parse_max_keys(value: str | None) -> int:
    """``max-keys`` as an int in 0..1000 (default 1000)."""
    if value is None or value == "":
        return MAX_KEYS
    if not value.isdigit():
        raise InvalidParameter(
            f"Parameter 'max-keys' is '{value[:20]}'; it must be a whole number from 0 to {MAX_KEYS}.",
            param="max-keys",
        )
    return min(int(value), MAX_KEYS)


def list_page(metas: list[ObjectMeta], *, prefix: str, delimiter: str, max_keys: int, after: str) -> ListPage:
    """The page of keys after ``after`` that start with ``prefix``; keys sharing a part up to the
    ``delimiter`` collapse into one common prefix, which counts as one entry."""
    page = ListPage()
    count = 0
    last = ""
    for meta in metas:
        if not meta.key.startswith(prefix) or meta.key <= after:
            continue
        entry: str | ObjectMeta = meta
        if delimiter:
            cut = meta.key.find(delimiter, len(prefix))
            if cut >= 0:
                common = meta.key[: cut + len(delimiter)]
                if common <= after or (page.prefixes and page.prefixes[-1] == common):
                    continue
                entry = common
        if count == max_keys:
            page.next_token = encode_token(last)
            break
        if isinstance(entry, str):
            page.prefixes.append(entry)
            last = entry
        else:
            page.contents.append(entry)
            last = entry.key
        count += 1
    return page


def page_body(
    page: ListPage,
    *,
    bucket: str,
    prefix: str,
    delimiter: str,
    max_keys: int,
    token: str | None,
    start_after: str,
    owner: dict[str, str],
) -> dict[str, Any]:
    """The ListObjectsV2 JSON, field names as TOS writes them."""
    body: dict[str, Any] = {
        "Name": bucket,
        "Prefix": prefix,
        "MaxKeys": max_keys,
        "KeyCount": len(page.contents) + len(page.prefixes),
        "IsTruncated": page.next_token is not None,
        "Delimiter": delimiter,
        "EncodingType": "",
        "CommonPrefixes": [{"Prefix": common} for common in page.prefixes],
        "Contents": [
            {
                "Key": meta.key,
                "LastModified": meta.modified.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "ETag": f'"{meta.etag}"',
                "Size": meta.size,
                "StorageClass": "STANDARD",
                "HashCrc64ecma": str(meta.crc64),
                "Type": "Normal",
                "Owner": owner,
            }
            for meta in page.contents
        ],
    }
    if token:
        body["ContinuationToken"] = token
    if start_after:
        body["StartAfter"] = start_after
    if page.next_token:
        body["NextContinuationToken"] = page.next_token
    return body
