"""What every framework's app shares: the middleware stack and the CORS policy (web/cors.py)."""

from __future__ import annotations

from collections.abc import Callable

from .. import observability
from ..config import Settings
from ..middleware import ASGIApp
from ..middleware.admission import AdmissionMiddleware
from ..middleware.body_limit import BodyLimitMiddleware
from ..middleware.request_context import RequestContextMiddleware
from ..playground import with_playground
from .cors import (
    CORS_ALLOW_HEADERS,
    CORS_ALLOW_METHODS,
    CORS_EXPOSE_HEADERS,
    CORS_MAX_AGE_SECONDS,
)
from .mcp_endpoint import McpRouter
from .services import Services

__all__ = [
    "CORS_ALLOW_HEADERS",
    "CORS_ALLOW_METHODS",
    "CORS_EXPOSE_HEADERS",
    "CORS_MAX_AGE_SECONDS",
    "wrap_app",
]


def wrap_app(app: ASGIApp, settings: Settings, services: Callable[[], Services | None]) -> ASGIApp:
    """``app`` (the framework's app behind its route labeller) in the middleware stack.

    Outermost first: observability -> request context and access line -> admission
    (drain, API key, rate limit, turn slots; ``services`` gives the running
    services) -> body limit -> the playground's files (when PLAYGROUND_ENABLED)
    -> ``/mcp`` (when MCP_SERVER_ENABLED) -> app.
    """
    if settings.mcp_server_enabled:
        app = McpRouter(app, settings)
    wrapped: ASGIApp = BodyLimitMiddleware(
        with_playground(app, settings),
        settings.max_body_bytes,
        body_read_timeout=settings.body_read_timeout,
    )
    wrapped = AdmissionMiddleware(wrapped, services)
    wrapped = RequestContextMiddleware(wrapped)
    return observability.instrument_app(wrapped, settings)
