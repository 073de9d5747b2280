"""Everything a request handler needs, built once per app from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from restyle.auth.accounts import AccountStore
from restyle.auth.demo import ensure_demo_account
from restyle.auth.keys import Credentials, KeyStore
from restyle.auth.limits import SubmitRateLimiter
from restyle.auth.serverkey import ServerKey
from restyle.config import Settings
from restyle.imaging.templates import TemplateSet
from restyle.pipeline import Pipeline
from restyle.storage import Storage, create_storage
from restyle.storage.urls import UrlSigner
from restyle.tasks.db import Database
from restyle.tasks.events import ChangeFeed
from restyle.tasks.pg_events import create_feed
from restyle.tasks.queue import TaskQueue, create_queue
from restyle.tasks.service import TaskService
from restyle.tasks.store import TaskStore


@dataclass
class Services:
    """The app's collaborators (one of each per process)."""

    settings: Settings
    db: Database
    server_key: ServerKey
    storage: Storage
    signer: UrlSigner
    accounts: AccountStore
    keys: KeyStore
    store: TaskStore
    queue: TaskQueue
    feed: ChangeFeed
    pipeline: Pipeline
    tasks: TaskService
    templates: TemplateSet  # named action chains for x-template, ImageX Template, TOS ProcessStyle


def open_database(settings: Settings) -> tuple[Database, ServerKey]:
    """The migrated database and the server key (both created on first use)."""
    db = Database.from_settings(settings)
    db.migrate()
    return db, ServerKey.load_or_create(settings.data_dir, settings.auth.server_key)


def build_services(settings: Settings) -> Services:
    db, server_key = open_database(settings)
    storage = create_storage(settings)
    feed = create_feed(db)  # across API processes on PostgreSQL
    queue = create_queue(settings, feed)
    pipeline = Pipeline(settings)  # catalogue only; workers set up their own
    store = TaskStore(db)
    tasks = TaskService(
        settings,
        store,
        storage,
        queue,
        SubmitRateLimiter(settings.limits.storage_uri),
        pipeline.resolve_style,
        feed,
    )
    return Services(
        settings=settings,
        db=db,
        server_key=server_key,
        storage=storage,
        signer=UrlSigner(server_key.derive("urls"), settings.storage.url_ttl_seconds, storage.direct_url),
        accounts=AccountStore(db, settings.limits),
        keys=KeyStore(db, server_key),
        store=store,
        queue=queue,
        feed=feed,
        pipeline=pipeline,
        tasks=tasks,
        templates=TemplateSet.from_settings(settings.images.templates_file),
    )


def bootstrap_demo(services: Services) -> Credentials | None:
    """The demo account's credentials when this start created it (first start), else None."""
    if not services.settings.auth.demo_account:
        return None
    return ensure_demo_account(services.accounts, services.keys)
