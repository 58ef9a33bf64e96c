"""Wiring: the store, the model client and the agent for one worker process.

Framework layers call ``start_services()`` in their lifespan and
``stop_services()`` at exit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from .. import lifecycle
from ..config import Settings
from ..sessions import SessionStore, create_store
from .budget import TokenBudget
from .fake import FakeChatModel
from .llm import ChatModel, OpenAIChatModel
from .loop import Agent, AgentLimits, encode_sse, stream_events
from .schemas import ChatRequest
from .security import RateLimiter
from .tools import ToolRegistry, default_registry

logger = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    store: SessionStore
    model: ChatModel
    agent: Agent
    budget: TokenBudget
    rate_limiter: RateLimiter


def create_model(settings: Settings) -> ChatModel:
    if settings.uses_fake_llm:
        logger.warning(
            "no LLM endpoint configured (LLM_BASE_URL and LLM_API_KEY are empty): "
            "the built-in deterministic fake model answers"
        )
        return FakeChatModel(
            latency_ms=settings.fake_llm_latency_ms,
            misbehave=settings.fake_llm_misbehave,
            secrets=settings.api_keys,
        )
    logger.info("using an OpenAI-compatible model endpoint", extra={"model": settings.model_name})
    return OpenAIChatModel(
        base_url=settings.llm_endpoint,
        api_key=settings.llm_api_key,
        model=settings.model_name,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
    )


async def start_services(
    settings: Settings,
    *,
    model: ChatModel | None = None,
    store: SessionStore | None = None,
    tools: ToolRegistry | None = None,
) -> Services:
    store = store or create_store(settings)
    await store.connect()
    logger.info("session store connected", extra={"store": store.name})
    model = model or create_model(settings)
    budget = TokenBudget(store, settings.token_budget_daily)
    agent = Agent(
        model=model,
        tools=tools or default_registry(),
        store=store,
        budget=budget,
        limits=AgentLimits(
            max_steps=settings.agent_max_steps,
            max_output_tokens=settings.agent_max_output_tokens,
            request_timeout=settings.request_timeout,
            max_message_chars=settings.max_message_chars,
        ),
    )
    return Services(
        settings=settings,
        store=store,
        model=model,
        agent=agent,
        budget=budget,
        rate_limiter=RateLimiter(store, settings.rate_limit_per_minute),
    )


async def stop_services(services: Services) -> None:
    await services.model.aclose()
    await services.store.close()


ReadyStatus = Literal["ready", "not_ready", "shutting_down"]


async def readiness(services: Services | None) -> tuple[ReadyStatus, dict[str, str]]:
    """The /ready answer: its status and the check of each dependency.

    The session store is the one dependency checked; the LLM endpoint's
    reachability is deliberately not a readiness check (CONTRACT.md).
    """
    checks: dict[str, str] = {}
    if services is not None:
        try:
            checks["session_store"] = "ok" if await services.store.ping() else "error"
        except Exception:
            checks["session_store"] = "error"
    status: ReadyStatus
    if lifecycle.state.draining:
        status = "shutting_down"
    elif services is None or not lifecycle.state.ready or any(v != "ok" for v in checks.values()):
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
