"""Admission of an agent request: the drain, the API key, the rate limit, the key's budget.

Both framework layers call ``admit()`` before they read the request body, so
every refusal here comes before any validation error. The service-wide token
budget (and a user's) is checked by the agent itself, after the body is valid
(``Agent.run()``, ``open_stream()``), so an invalid body is a 422 even when that
budget is spent; the API key's budget (``KEY_TOKEN_BUDGET_DAILY``) is checked
here, for the requests that spend tokens (``spends_tokens``: the chat routes).
"""

from __future__ import annotations

from .. import lifecycle
from .errors import ShuttingDown
from .security import authenticate
from .services import Services


async def admit(
    services: Services,
    *,
    client_host: str | None,
    authorization: str | None,
    x_api_key: str | None,
    spends_tokens: bool = False,
) -> str:
    """The caller (``key:<key>``, else the client address), or raise ``ShuttingDown``,
    ``Unauthorized``, ``RateLimited`` or (``spends_tokens``) ``BudgetExceeded``."""
    if lifecycle.state.draining:
        raise ShuttingDown()
    settings = services.settings
    caller = client_host or "unknown"
    api_key: str | None = None
    if settings.auth_enabled:
        api_key = authenticate(authorization, x_api_key, settings.api_keys)
        caller = "key:" + api_key
    await services.rate_limiter.hit(caller)
    await services.key_budgets.admit(api_key, spends_tokens=spends_tokens)
    return caller
