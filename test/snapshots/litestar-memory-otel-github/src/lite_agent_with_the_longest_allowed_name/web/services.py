"""The services of one worker process: the store, the model client, the agent.

``running_services()`` is the whole lifespan every framework layer runs:
observability up, services started, ready; and the reverse at exit.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from .. import lifecycle, observability
from ..agent.budget import TokenBudget
from ..agent.fake import FakeChatModel
from ..agent.key_budget import KeyBudgets
from ..agent.llm import ChatModel, OpenAIChatModel
from ..agent.loop import SYSTEM_PROMPT, Agent, AgentLimits
from ..agent.mcp_tools import McpTools
from ..agent.response_cache import ResponseCache
from ..agent.tools import ToolRegistry, default_registry
from ..config import Settings
from ..observability_contract import ObservabilityStack
from ..runs import RunQueue, create_runs
from ..sessions import SessionStore, create_store
from ..sessions.guard import GuardedStore
from .overload import TurnSlots
from .security import RateLimiter

logger = logging.getLogger(__name__)

# mypy checks here that the chosen observability layer implements the interface.
_observability: ObservabilityStack = observability


@dataclass
class Services:
    settings: Settings
    store: SessionStore
    model: ChatModel
    agent: Agent
    budget: TokenBudget
    rate_limiter: RateLimiter
    key_budgets: KeyBudgets
    # The turns in flight in this worker, bounded by MAX_INFLIGHT_TURNS (web/overload.py).
    turns: TurnSlots
    # Background runs (/v1/runs): SAQ with a shared store, in-process with memory.
    runs: RunQueue | None = None
    # The connections to MCP_SERVERS_FILE's servers (None without one).
    mcp_tools: McpTools | None = None


# The services of this worker while its lifespan runs: for /mcp, which the core's
# ASGI stack routes before any framework (web/mcp_endpoint.py).
_running: Services | None = None


def current_services() -> Services | None:
    return _running


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
    return endpoint_model(
        settings, settings.llm_endpoint, settings.llm_api_key, settings.model_name
    )


def endpoint_model(settings: Settings, base_url: str, api_key: str, model: str) -> OpenAIChatModel:
    """A model on an OpenAI-compatible endpoint, with the service's timeouts and bounds."""
    return OpenAIChatModel(
        base_url=base_url,
        api_key=api_key,
        model=model,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        max_response_bytes=settings.llm_max_response_bytes,
        max_connections=settings.llm_max_connections,
    )


def create_fallback_models(settings: Settings) -> list[ChatModel]:
    """The LLM_FALLBACK_MODELS, in order. An entry on the primary's endpoint
    uses LLM_API_KEY; one on another endpoint only the key its entry names
    (the primary's key is never sent elsewhere)."""
    models: list[ChatModel] = []
    for entry in settings.fallback_models:
        base_url = entry.base_url or settings.llm_endpoint
        api_key = os.environ.get(entry.api_key_env, "") if entry.api_key_env else ""
        if not entry.api_key_env and base_url == settings.llm_endpoint:
            api_key = settings.llm_api_key
        models.append(endpoint_model(settings, base_url, api_key, entry.model))
    if models:
        logger.info("fallback models", extra={"models": [m.name for m in models]})
    return models


def create_cheap_model(settings: Settings) -> ChatModel | None:
    """LLM_CHEAP_MODEL on the primary's endpoint and key, or None (routing off)."""
    if not settings.llm_cheap_model:
        return None
    return endpoint_model(
        settings, settings.llm_endpoint, settings.llm_api_key, settings.llm_cheap_model
    )


async def start_services(
    settings: Settings,
    *,
    model: ChatModel | None = None,
    store: SessionStore | None = None,
    tools: ToolRegistry | None = None,
) -> Services:
    # Store outages answer 503 store_unavailable, logged once per outage.
    store = GuardedStore(store or create_store(settings))
    await store.connect()
    logger.info("session store connected", extra={"store": store.name})
    model = model or create_model(settings)
    budget = TokenBudget(
        store, settings.token_budget_daily, warning_ratio=settings.budget_warning_ratio
    )
    key_budgets = KeyBudgets(
        store,
        api_keys=settings.api_keys if settings.auth_enabled else (),
        key_limit=settings.key_token_budget_daily,
        user_limit=settings.user_token_budget_daily,
        trust_user_id=settings.budget_trust_user_id,
        warning_ratio=settings.budget_warning_ratio,
        secret=settings.key_id_secret,
        metric_keys_max=settings.budget_metric_keys_max,
    )
    registry = tools or default_registry()
    mcp_tools: McpTools | None = None
    if settings.mcp_servers:
        # Waits for each server's first connection attempt (its connect timeout at most);
        # a server that is down is retried in the background.
        mcp_tools = McpTools(settings.mcp_servers, registry, os.environ)
        await mcp_tools.start()
    fallbacks = create_fallback_models(settings)
    cheap_model = create_cheap_model(settings)
    response_cache = ResponseCache(
        store,
        settings.response_cache_ttl_seconds,
        shared_across_keys=settings.response_cache_shared,
        fingerprint=(
            [model.name, *(m.name for m in fallbacks)],
            SYSTEM_PROMPT,
            settings.agent_max_output_tokens,
            [cheap_model.name, settings.llm_cheap_max_chars] if cheap_model else None,
        ),
    )
    agent = Agent(
        model=model,
        tools=registry,
        store=store,
        budget=budget,
        key_budgets=key_budgets,
        prices=settings.llm_prices,
        limits=AgentLimits(
            max_steps=settings.agent_max_steps,
            max_output_tokens=settings.agent_max_output_tokens,
            request_timeout=settings.request_timeout,
            max_message_chars=settings.max_message_chars,
            max_input_tokens=settings.agent_max_input_tokens,
        ),
        fallbacks=fallbacks,
        response_cache=response_cache,
        cheap_model=cheap_model,
        cheap_max_chars=settings.llm_cheap_max_chars,
    )
    services = Services(
        settings=settings,
        store=store,
        model=model,
        agent=agent,
        budget=budget,
        rate_limiter=RateLimiter(store, settings.rate_limit_per_minute),
        key_budgets=key_budgets,
        turns=TurnSlots(settings.inflight_turns_limit),
        mcp_tools=mcp_tools,
    )
    runs = create_runs(settings, agent, store, store.inner)
    await runs.start()
    runs.start_depth_reports()  # agent_queue_depth
    services.runs = runs
    return services


async def stop_services(services: Services) -> None:
    if services.runs is not None:
        await services.runs.stop_depth_reports()
        await services.runs.close()
    if services.mcp_tools is not None:
        await services.mcp_tools.stop()
    await services.model.aclose()
    for fallback in services.agent.models[1:]:
        await fallback.aclose()
    if services.agent.cheap_model is not None:
        await services.agent.cheap_model.aclose()
    await services.store.close()


_heap = {"frozen": False}


def freeze_startup_heap() -> None:
    """Move what start-up loaded (modules, the app, the services) out of the
    cyclic garbage collector's reach, once per process.

    It lives as long as the process; left in the collector's oldest generation,
    every full collection walks all of it with the event loop stopped (tens of
    milliseconds, the latency spikes of turns under load).
    """
    if not _heap["frozen"]:
        _heap["frozen"] = True
        gc.collect()
        gc.freeze()


@asynccontextmanager
async def running_services(
    settings: Settings,
    *,
    model: ChatModel | None = None,
    store: SessionStore | None = None,
    tools: ToolRegistry | None = None,
) -> AsyncIterator[Services]:
    """Observability and the services, started and ready for the body of the ``with``.

    ``model``, ``store`` and ``tools`` replace the configured ones (tests).
    """
    lifecycle.state.reset()
    observability.setup(settings)
    services = await start_services(settings, model=model, store=store, tools=tools)
    global _running  # noqa: PLW0603 (one app per worker process)
    _running = services
    freeze_startup_heap()
    lifecycle.state.mark_ready()
    logger.info("ready", extra={"store": services.store.name, "model": services.model.name})
    try:
        yield services
    finally:
        lifecycle.state.mark_not_ready()
        _running = None
        await stop_services(services)
        observability.shutdown()
        logger.info("stopped")
