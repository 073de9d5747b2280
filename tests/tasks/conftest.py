from tests.tasks.fixtures import accounts, database_url, db, keys, pg_unreachable, server_key, store

__all__ = ["accounts", "database_url", "db", "keys", "pg_unreachable", "server_key", "store"]
