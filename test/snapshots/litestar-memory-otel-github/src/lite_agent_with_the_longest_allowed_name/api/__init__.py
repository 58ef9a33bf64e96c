"""The HTTP layer (Litestar): app factory, routes, error handlers, lifespan."""

from .app import create_app

__all__ = ["create_app"]
