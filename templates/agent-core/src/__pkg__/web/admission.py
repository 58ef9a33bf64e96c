"""Admission of an agent request: the drain, the API key, the rate limit.

Both framework layers call ``admit()`` before they read the request body, so
every refusal here comes before any validation error. The token budget is
checked by the agent itself, after the body is valid (``Agent.run()``,
``open_stream()``), so an invalid body is a 422 even when the budget is spent.
"""

from __future__ import annotations

from .. import lifecycle
from ..agent.response_cache import current_caller
from .errors import ShuttingDown
from .security import authenticate
from .services import Services


async def admit(
    services: Services,
    *,
    client_host: str | None,
    authorization: str | None,
    x_api_key: str | None,
) -> str:
    """The caller (``key:<key>``, else the client address), or raise ``ShuttingDown``,
    ``Unauthorized`` or ``RateLimited``."""
    if lifecycle.state.draining:
        raise ShuttingDown()
    settings = services.settings
    caller = client_host or "unknown"
    if settings.auth_enabled:
        caller = "key:" + authenticate(authorization, x_api_key, settings.api_keys)
        # The response cache keeps each key's entries apart (agent/response_cache.py).
        current_caller.set(caller)
    await services.rate_limiter.hit(caller)
    return caller
