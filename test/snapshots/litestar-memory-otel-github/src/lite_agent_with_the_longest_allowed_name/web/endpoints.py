"""The framework-free bodies of /ready, /v1/chat/stream and /v1/sessions/{session_id}."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from .. import lifecycle
from ..agent.loop import encode_sse, stream_events
from ..agent.schemas import IDENTIFIER_PATTERN, ChatRequest
from .errors import NotFound, ValidationFailed
from .schemas import ReadyStatus, SessionHistory, SessionMessage
from .services import Services


async def readiness(services: Services | None) -> tuple[ReadyStatus, dict[str, str]]:
    """The /ready answer: its status and the check of each dependency.

    The session store is the one dependency checked; the LLM endpoint's
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
