"""Accounts, API keys and access keys, the server key, and per-account limits."""
