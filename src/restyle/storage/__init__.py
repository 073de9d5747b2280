"""Storage of inputs and results: local disk by default, chosen by ``storage.kind``."""

from __future__ import annotations

from restyle.storage.base import STORAGES, Storage, create_storage, validate_key

__all__ = ["STORAGES", "Storage", "create_storage", "validate_key"]
