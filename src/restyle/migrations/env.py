"""Alembic environment: runs on the connection restyle passes in, or on ``sqlalchemy.url``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

import restyle.auth.models
import restyle.storage.buckets
import restyle.storage.imagex_services
import restyle.tasks.models  # noqa: F401 - registers the tables on the metadata
from restyle.tasks.db import Base

# any constant: serializes concurrent migrations on PostgreSQL
_MIGRATION_LOCK = 0x7265_7374_796C_6501


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("Set sqlalchemy.url or pass a connection to run restyle's migrations.")
    engine = create_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


main()
