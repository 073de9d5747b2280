"""Routers of the native API, one per resource."""
