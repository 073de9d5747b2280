"""Processed copies of stored images: made on demand, cached beside their source, removed with it.

A stored image ``key`` processed by an action chain is cached under ``<key>.x/<digest>``, where the
digest covers the chain's canonical text. Every task file lives under the task's prefix, so deleting
a task (or its account) removes the copies too; :func:`delete_with_derived` does the same for a
single key. The cached blob starts with its media type on one line, so a cache hit needs no decode.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from restyle.errors import NotFound, UnsupportedFeature
from restyle.imaging.actions import ActionChain, Metadata, ProcessedImage, process_image
from restyle.labels.containers import extract_xmp
from restyle.storage import Storage

DERIVED_SUFFIX = ".x"
_DIGEST_CHARS = 40
MAX_COPIES = 16  # cached processed copies per file; further variants are processed but not kept


@dataclass(frozen=True)
class DerivedImage:
    """A processed copy: its bytes, media type and whether it came from the cache."""

    data: bytes
    media_type: str
    cached: bool


def derived_prefix(key: str) -> str:
    """Where the processed copies of ``key`` live."""
    return f"{key}{DERIVED_SUFFIX}"


def derived_key(key: str, chain: ActionChain) -> str:
    """The cache key of ``key`` processed by ``chain``."""
    digest = hashlib.sha256(str(chain).encode()).hexdigest()[:_DIGEST_CHARS]
    return f"{derived_prefix(key)}/{digest}"


def _pack(image: ProcessedImage) -> bytes:
    return image.media_type.encode() + b"\n" + image.data


def _unpack(blob: bytes) -> tuple[str, bytes]:
    media_type, _, data = blob.partition(b"\n")
    return media_type.decode(), data


def process_stored(
    storage: Storage,
    key: str,
    chain: ActionChain,
    *,
    deadline_seconds: float,
    max_output_pixels: int,
    resolve_object: Callable[[str], bytes] | None = None,
) -> DerivedImage:
    """``key`` processed by ``chain``: from the cache, or processed now and cached.

    Steps: 1. a cached copy answers at once; 2. read the source (NotFound if it is gone);
    3. run the chain within the deadline and pixel bound, carrying the source's XMP (restyle's
    TC260 label) over while every other piece of metadata is stripped; 4. cache the result.
    ``resolve_object`` reads the images an image watermark names; the caller scopes it (e.g. to
    the account's own keys), since a chain may name any key.
    """
    # 1. cache (not for chains that read other objects: a changed watermark image would go unseen)
    cache_key = derived_key(key, chain)
    cacheable = not _reads_objects(chain)
    if cacheable and (cached := _cached(storage, cache_key)) is not None:
        return cached
    # 2. source
    source = storage.get(key)
    # 3. process
    processed = process_image(
        source,
        chain,
        deadline=time.monotonic() + deadline_seconds,
        max_output_pixels=max_output_pixels,
        resolve_object=resolve_object,
        metadata=Metadata(xmp=extract_xmp(source)),  # restyle's AI-content label stays on the copy
    )
    # 4. cache (a bounded number of copies per file, so a link cannot fill the disk with variants);
    # a source deleted meanwhile must not leave an orphan copy behind
    if not cacheable or _copies(storage, key) >= MAX_COPIES:
        return DerivedImage(processed.data, processed.media_type, cached=False)
    storage.put(cache_key, _pack(processed))
    if not storage.exists(key):
        storage.delete_prefix(derived_prefix(key))
    return DerivedImage(processed.data, processed.media_type, cached=False)


def _cached(storage: Storage, cache_key: str) -> DerivedImage | None:
    try:
        media_type, data = _unpack(storage.get(cache_key))
    except NotFound:
        return None
    return DerivedImage(data, media_type, cached=True)


def _reads_objects(chain: ActionChain) -> bool:
    """Whether a step reads another stored object (an image watermark)."""
    for step in str(chain).split("/")[1:]:
        name, _, params = step.partition(",")
        if name == "watermark" and any(param.startswith("image_") for param in params.split(",")):
            return True
    return False


def _copies(storage: Storage, key: str) -> int:
    """How many processed copies of ``key`` are cached (a storage that cannot list counts as full)."""
    try:
        return len(storage.list_prefix(derived_prefix(key)))
    except UnsupportedFeature:
        return MAX_COPIES


def delete_with_derived(storage: Storage, key: str) -> None:
    """Remove ``key`` and every processed copy of it."""
    storage.delete(key)
    storage.delete_prefix(derived_prefix(key))
