"""What every framework's app shares: the middleware stack and the CORS policy."""

from __future__ import annotations

from .. import observability
from ..config import Settings
from ..middleware import ASGIApp
from ..middleware.access_log import AccessLogMiddleware
from ..middleware.api_key import ApiKeyMiddleware
from ..middleware.body_limit import BodyLimitMiddleware
from ..middleware.request_context import RequestContextMiddleware
from ..playground import with_playground
from .mcp_endpoint import McpRouter

# CORS (only when CORS_ORIGINS is set): the methods and headers the contract's
# endpoints use, and the response headers a browser client may read.
CORS_ALLOW_METHODS: tuple[str, ...] = ("GET", "POST", "OPTIONS")
CORS_ALLOW_HEADERS: tuple[str, ...] = (
    "Authorization",
    "Content-Type",
    "X-API-Key",
    "X-Request-ID",
    "traceparent",
)
CORS_EXPOSE_HEADERS: tuple[str, ...] = (
    "X-Request-ID",
    "X-Trace-Id",
    "Server-Timing",
    "Retry-After",
)
CORS_MAX_AGE_SECONDS = 600


def wrap_app(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` (the framework's app behind its route labeller) in the middleware stack.

    Outermost first: observability -> request context -> access log -> API key
    (when keys are configured) -> body limit -> the playground's files (when
    PLAYGROUND_ENABLED) -> ``/mcp`` (when MCP_SERVER_ENABLED) -> app.
    """
    if settings.mcp_server_enabled:
        app = McpRouter(app, settings)
    wrapped: ASGIApp = BodyLimitMiddleware(
        with_playground(app, settings),
        settings.max_body_bytes,
        body_read_timeout=settings.body_read_timeout,
    )
    if settings.auth_enabled:
        wrapped = ApiKeyMiddleware(wrapped, settings.api_keys)
    wrapped = AccessLogMiddleware(wrapped)
    wrapped = RequestContextMiddleware(wrapped)
    return observability.instrument_app(wrapped, settings)
