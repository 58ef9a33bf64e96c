"""The framework-free bodies of /ready, /v1/chat/stream, /v1/sessions/{session_id} and /v1/usage."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from .. import lifecycle
from ..agent.budget import seconds_to_utc_midnight
from ..agent.key_budget import current_owner
from ..agent.loop import encode_sse, stream_events
from ..agent.schemas import IDENTIFIER_PATTERN, ChatRequest
from .errors import NotFound, ValidationFailed
from .schemas import BudgetUse, ReadyStatus, SessionHistory, SessionMessage, UsageResponse
from .services import Services


async def readiness(services: Services | None) -> tuple[ReadyStatus, dict[str, str]]:
    """The /ready answer: its status and the check of each dependency.

    The session store is the dependency checked (and, with
    READY_WHEN_SATURATED=false, the worker's free turn slots); the LLM endpoint's
    reachability is deliberately not a readiness check: a model outage must
    not take every replica out of the load balancer. Each MCP server is
    listed (``mcp:<name>``) and counts only when the servers file marks it
    ``required``.
    """
    checks: dict[str, str] = {}
    failing = False
    if services is not None:
        try:
            checks["session_store"] = "ok" if await services.store.ping() else "error"
        except Exception:
            checks["session_store"] = "error"
        failing = checks["session_store"] != "ok"
        if services.mcp_tools is not None:
            for check, (state, required) in services.mcp_tools.checks().items():
                checks[check] = state
                failing = failing or (required and state != "ok")
        if not services.settings.ready_when_saturated:
            # READY_WHEN_SATURATED=false: a worker whose turn slots are all taken
            # reports not_ready, so a load balancer sends new work elsewhere.
            checks["turns"] = "saturated" if services.turns.saturated else "ok"
            failing = failing or services.turns.saturated
    status: ReadyStatus
    if lifecycle.state.draining:
        status = "shutting_down"
    elif services is None or not lifecycle.state.ready or failing:
        status = "not_ready"
    else:
        status = "ready"
    return status, checks


async def open_stream(
    services: Services, request: ChatRequest, trace_id: str
) -> AsyncIterator[bytes]:
    """The SSE body of /v1/chat/stream, after refusing with a status what can
    be refused before the stream starts (validation, the token budget)."""
    services.agent.validate(request)
    await services.budget.check()

    async def events() -> AsyncIterator[bytes]:
        async for event, data in stream_events(services.agent, request, trace_id=trace_id):
            yield encode_sse(event, data)

    return events()


async def read_session(services: Services, session_id: str) -> SessionHistory:
    """``GET /v1/sessions/{session_id}``: the history the store keeps for a session.

    The id follows the same rule as in a chat request (422 otherwise); a session
    the store does not hold (never started, expired, or trimmed to nothing) is 404.
    Only the user's messages and the answers are returned, as the store keeps them.
    """
    if not re.fullmatch(IDENTIFIER_PATTERN, session_id):
        raise ValidationFailed(
            details=[{"field": "session_id", "reason": f"must match {IDENTIFIER_PATTERN}"}]
        )
    messages = [
        SessionMessage(role=message["role"], content=message["content"])
        for message in await services.store.load(session_id)
        if message.get("role") in ("user", "assistant") and isinstance(message.get("content"), str)
    ]
    if not messages:
        raise NotFound("no such session")
    return SessionHistory(session_id=session_id, messages=messages)


async def read_usage(services: Services) -> UsageResponse:
    """``GET /v1/usage``: the calling key's tokens today and its limit, and the service's.

    The caller is the one ``admit()`` authenticated. A budget's tokens are
    counted only while its limit is set: ``key`` (KEY_TOKEN_BUDGET_DAILY) and
    ``service`` (TOKEN_BUDGET_DAILY) are null otherwise.
    """
    now = services.budget.now()
    owner = current_owner.get()
    key: BudgetUse | None = None
    if owner is not None and services.key_budgets.key_limit > 0:
        use = await services.key_budgets.key_usage(owner.key_id, now)
        key = BudgetUse(
            used_tokens=use.used_tokens,
            limit_tokens=use.limit_tokens,
            remaining_tokens=use.remaining_tokens,
        )
    service: BudgetUse | None = None
    if services.budget.enabled:
        used = await services.budget.used_today(now)
        limit = services.budget.daily_limit
        service = BudgetUse(
            used_tokens=used, limit_tokens=limit, remaining_tokens=max(0, limit - used)
        )
    return UsageResponse(
        date=now.date().isoformat(),
        resets_in_seconds=seconds_to_utc_midnight(now),
        key_id=owner.key_id if owner is not None else None,
        key=key,
        service=service,
    )
