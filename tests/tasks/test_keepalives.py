"""PostgreSQL sessions notice a vanished peer in seconds: the pool's, the upkeep leader's and the listener's."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from restyle.tasks.db import Database


def test_pool_sessions_ask_the_server_to_probe_their_client(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("keepalives are a PostgreSQL session setting")
    db = Database(database_url)
    try:
        with db.engine.connect() as connection:
            idle = connection.execute(text("SHOW tcp_keepalives_idle")).scalar()
            count = connection.execute(text("SHOW tcp_keepalives_count")).scalar()
            schema = connection.execute(text("SHOW search_path")).scalar()
        assert (idle, count) == ("10", "3")
        assert "restyle_test_" in str(schema)  # the URL's own options (search_path) still apply
    finally:
        db.dispose()
