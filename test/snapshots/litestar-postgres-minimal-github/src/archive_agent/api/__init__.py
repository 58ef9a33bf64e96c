"""The Litestar adapter over ``web/``: app factory, routes, request parsing, error handlers."""

from .app import create_app

__all__ = ["create_app"]
