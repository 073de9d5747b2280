"""Removing everything an account owns in storage besides its tasks: TOS buckets and ImageX services."""

from __future__ import annotations

from restyle.storage.base import Storage
from restyle.storage.buckets import BucketStore, bucket_prefix
from restyle.storage.imagex_services import ImagexServiceStore, service_prefix
from restyle.tasks.db import Database


def purge_owned_files(db: Database, storage: Storage, account_id: str) -> int:
    """Delete the files of the account's buckets and image services (their rows go with the account);
    returns how many files were removed."""
    removed = 0
    for bucket in BucketStore(db).list(account_id):
        removed += storage.delete_prefix(bucket_prefix(bucket))
    for service in ImagexServiceStore(db).list(account_id):
        removed += storage.delete_prefix(service_prefix(service.service_id))
    return removed
