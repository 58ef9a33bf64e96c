"""The CORS policy (only when CORS_ORIGINS is set), one for every framework.

Each framework's CORS middleware is configured from these lists. The refusals
the core answers before the framework sees the request (401, 429, 503 from the
ASGI admission step) carry the same headers themselves, so a browser on an
allowed origin can read them (and their ``Retry-After``) too.
"""

from __future__ import annotations

# The methods and headers the contract's
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


def refusal_cors_headers(origin: str | None, allowed: tuple[str, ...]) -> dict[str, str]:
    """The CORS headers of a response the core sends itself, for an allowed ``Origin``."""
    if origin is None or origin not in allowed:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": ", ".join(CORS_EXPOSE_HEADERS),
        "Vary": "Origin",
    }
