"""The HTTP service: ``create_app(settings)`` builds the FastAPI app of the native API."""

from __future__ import annotations

from restyle.api.app import create_app

__all__ = ["create_app"]
