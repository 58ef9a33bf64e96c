"""The agent loop: model -> tools -> model, bounded in steps, tokens and time.

``Agent.run()`` is one turn; with ``emit`` it streams (text deltas and tool
events go to ``emit`` as they happen). ``stream_events()`` wraps a run in a
task and yields its events, cancelling the run when the consumer goes away
(a disconnected client).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import observability
from ..config import ModelPrice
from ..context import add_access_fields
from ..sessions.base import SessionStore
from ..web.errors import (
    AgentError,
    InternalError,
    UpstreamError,
    UpstreamTimeout,
    ValidationFailed,
)
from . import context_window
from .budget import TokenBudget
from .fallback import call_with_fallback
from .key_budget import KeyBudgets, current_owner
from .llm import ChatModel, Completion, Message, ToolCall, turn_deadline
from .pricing import cost_usd
from .response_cache import CachedAnswer, ResponseCache
from .routing import models_for_turn
from .schemas import ChatRequest, ChatResponse, ToolCallInfo, Usage
from .text import clean_text
from .tools import ToolRegistry

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are a helpful assistant. Use the available tools when they help, and answer concisely."
)
MAX_STEPS_ANSWER = "I could not finish within the allowed number of steps."

EventSink = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class AgentLimits:
    max_steps: int = 8
    max_output_tokens: int = 1024
    request_timeout: float = 30.0
    max_message_chars: int = 8000
    # Estimated input tokens per model call (agent/context_window.py); 0 = no bound.
    max_input_tokens: int = 0


@dataclass
class _Turn:
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: list[ToolCallInfo] = field(default_factory=list)
    # Of input_tokens, those the provider read from its prompt cache.
    cached_input_tokens: int = 0
    # US dollars, known when every model call of the turn had a price (LLM_PRICES).
    cost_usd: float = 0.0
    priced: bool = True
    # Fallback models (agent/fallback.py): the turn's chain, where it starts, who answered.
    models: list[ChatModel] = field(default_factory=list)
    model_index: int = 0
    model: str = ""
    streamed_text: bool = False
    # Context trimming and the response cache, for the turn's log line.
    trimmed_messages: int = 0
    response_cache: str | None = None

    def add_cost(self, cost: float | None) -> None:
        if cost is None:
            self.priced = False
        else:
            self.cost_usd += cost

    @property
    def known_cost(self) -> float | None:
        # Rounded to a micro-cent: float sums of per-token prices carry noise.
        return round(self.cost_usd, 8) if self.priced else None


class Agent:
    def __init__(
        self,
        model: ChatModel,
        tools: ToolRegistry,
        store: SessionStore,
        budget: TokenBudget,
        limits: AgentLimits,
        *,
        key_budgets: KeyBudgets | None = None,
        prices: Mapping[str, ModelPrice] | None = None,
        fallbacks: Sequence[ChatModel] = (),
        response_cache: ResponseCache | None = None,
        cheap_model: ChatModel | None = None,
        cheap_max_chars: int = 0,
    ) -> None:
        self.model = model
        self.models: list[ChatModel] = [model, *fallbacks]
        self.response_cache = response_cache
        # The cheap-turn routing rule (agent/routing.py); off without a cheap model.
        self.cheap_model = cheap_model
        self.cheap_max_chars = cheap_max_chars
        self.tools = tools
        self.store = store
        self.budget = budget
        self.limits = limits
        self.key_budgets = key_budgets or KeyBudgets(store)
        self.prices: Mapping[str, ModelPrice] = prices or {}

    def validate(self, request: ChatRequest) -> None:
        if len(request.message) > self.limits.max_message_chars:
            raise ValidationFailed(
                details=[
                    {
                        "field": "message",
                        "reason": f"must be at most {self.limits.max_message_chars} characters",
                    }
                ]
            )

    async def run(
        self, request: ChatRequest, *, trace_id: str, emit: EventSink | None = None
    ) -> ChatResponse:
        started = time.perf_counter()
        self.validate(request)
        await self.budget.check()
        await self.key_budgets.check_user(request.user_id)
        session_id = request.session_id or uuid.uuid4().hex
        models = models_for_turn(
            self.models, self.cheap_model, self.cheap_max_chars, request.message
        )
        turn = _Turn(models=models, model=models[0].name)
        if emit is not None:
            emit = _noting_text(emit, turn)
        deadline = turn_deadline.set(time.monotonic() + self.limits.request_timeout)
        try:
            async with asyncio.timeout(self.limits.request_timeout):
                answer = await self._run(request, session_id, turn, emit)
        except TimeoutError as exc:
            raise UpstreamTimeout("the agent turn passed REQUEST_TIMEOUT") from exc
        finally:
            turn_deadline.reset(deadline)
            spent = turn.input_tokens + turn.output_tokens
            await self.budget.consume(spent)
            await self.key_budgets.consume(spent, request.user_id)
        owner = current_owner.get()
        cost = turn.known_cost
        # user_message/answer are redacted in the logs unless LOG_PAYLOADS=true.
        # On the request's access line when there is one, else a line of its own.
        fields = {
            "session_id": session_id,
            "input_tokens": turn.input_tokens,
            "output_tokens": turn.output_tokens,
            "cached_input_tokens": turn.cached_input_tokens,
            **({"cost_usd": cost} if cost is not None else {}),
            **({"key_id": owner.key_id} if owner is not None else {}),
            "tool_calls": len(turn.tool_calls),
            "model": turn.model,
            **({"trimmed_messages": turn.trimmed_messages} if turn.trimmed_messages else {}),
            **({"response_cache": turn.response_cache} if turn.response_cache else {}),
            "user_message": request.message,
            "answer": answer,
        }
        if not add_access_fields(fields):
            logger.info("turn finished", extra=fields)
        return ChatResponse(
            answer=answer,
            session_id=session_id,
            trace_id=trace_id,
            usage=Usage(
                input_tokens=turn.input_tokens,
                output_tokens=turn.output_tokens,
                cached_input_tokens=turn.cached_input_tokens,
                cost_usd=cost,
            ),
            tool_calls=turn.tool_calls,
            model=turn.model,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    async def _run(
        self, request: ChatRequest, session_id: str, turn: _Turn, emit: EventSink | None
    ) -> str:
        history = await self.store.load(session_id)
        user_message: Message = {"role": "user", "content": request.message}
        messages: list[Message] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            *history,
            user_message,
        ]
        tools = self.tools.schemas()
        cache_key: str | None = None
        # The response cache: first turns only, never streams (agent/response_cache.py).
        cache = self.response_cache
        if cache is not None and cache.enabled and emit is None and not history:
            cache_key = cache.key(request.message, tools)
            cached = await cache.get(cache_key)
            turn.response_cache = "miss" if cached is None else "hit"
            if cached is not None:
                turn.model = cached.model
                turn.tool_calls = list(cached.tool_calls)
                await self.store.append(
                    session_id, [user_message, {"role": "assistant", "content": cached.answer}]
                )
                return cached.answer
        answer: str | None = None
        for _step in range(self.limits.max_steps):
            completion = await self._call_model(messages, tools, emit, turn)
            turn.input_tokens += completion.input_tokens
            turn.output_tokens += completion.output_tokens
            turn.cached_input_tokens += completion.cached_input_tokens
            cost = cost_usd(
                self.prices,
                turn.model,
                input_tokens=completion.input_tokens,
                cached_input_tokens=completion.cached_input_tokens,
                output_tokens=completion.output_tokens,
            )
            turn.add_cost(cost)
            if cost:
                observability.record_cost(turn.model, cost)
            if not completion.tool_calls:
                answer = completion.content
                break
            messages.append(
                {
                    "role": "assistant",
                    "content": completion.content or None,
                    "tool_calls": [call.as_message_part() for call in completion.tool_calls],
                }
            )
            for call in completion.tool_calls:
                with observability.tool_call(
                    call.name, server=self.tools.server_of(call.name)
                ) as recorder:
                    status, result = await self.tools.call(call.name, call.arguments)
                    recorder.set_status(status)
                turn.tool_calls.append(ToolCallInfo(name=call.name, status=status))
                logger.info("tool called", extra={"tool": call.name, "status": status})
                if emit is not None:
                    await emit("tool", {"name": call.name, "status": status})
                messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": clean_text(result)}
                )
        if answer is None:
            logger.warning(
                "agent stopped at AGENT_MAX_STEPS", extra={"max_steps": self.limits.max_steps}
            )
            answer = MAX_STEPS_ANSWER
            if emit is not None:
                await emit("token", {"delta": answer})
        await self.store.append(
            session_id, [user_message, {"role": "assistant", "content": answer}]
        )
        if cache is not None and cache_key is not None and answer != MAX_STEPS_ANSWER:
            entry = CachedAnswer(answer=answer, model=turn.model, tool_calls=turn.tool_calls)
            await cache.put(cache_key, entry)
        return answer

    async def _call_model(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]],
        emit: EventSink | None,
        turn: _Turn,
    ) -> Completion:
        window = context_window.fit(
            messages,
            tools,
            self.limits.max_input_tokens,
            _current_user_index(messages),
            tools_tokens=self.tools.schemas_tokens(),
        )
        if window.dropped_messages > turn.trimmed_messages:
            turn.trimmed_messages = window.dropped_messages
            logger.info(
                "context trimmed to AGENT_MAX_INPUT_TOKENS",
                extra={
                    "dropped_messages": window.dropped_messages,
                    "estimated_input_tokens": window.estimated_tokens,
                },
            )

        async def call(model: ChatModel) -> Completion:
            return await self._call_one(model, window.messages, tools, emit)

        turn.model_index, completion = await call_with_fallback(
            turn.models,
            turn.model_index,
            call,
            may_fall_back=lambda: not turn.streamed_text,
        )
        turn.model = turn.models[turn.model_index].name
        return completion

    async def _call_one(
        self,
        model: ChatModel,
        messages: list[Message],
        tools: list[dict[str, Any]],
        emit: EventSink | None,
    ) -> Completion:
        max_tokens = self.limits.max_output_tokens
        with observability.llm_call(model.name) as recorder:
            try:
                if emit is None:
                    completion = await model.complete(messages, tools, max_tokens)
                else:
                    completion = await self._stream_model(model, messages, tools, max_tokens, emit)
            except BaseException:
                recorder.set_status("error")
                raise
            recorder.set_status("ok")
            recorder.set_usage(completion.input_tokens, completion.output_tokens)
        cached = completion.cached_input_tokens
        observability.record_tokens(
            model.name,
            completion.input_tokens - cached,
            completion.output_tokens,
            cached_input_tokens=cached,
        )
        # The model's output is untrusted: valid text from here on (agent/text.py).
        completion.content = clean_text(completion.content)
        completion.tool_calls = [
            ToolCall(
                id=clean_text(c.id), name=clean_text(c.name), arguments=clean_text(c.arguments)
            )
            for c in completion.tool_calls
        ]
        return completion

    async def _stream_model(
        self,
        model: ChatModel,
        messages: list[Message],
        tools: list[dict[str, Any]],
        max_tokens: int,
        emit: EventSink,
    ) -> Completion:
        completion: Completion | None = None
        async for item in model.stream(messages, tools, max_tokens):
            if isinstance(item, Completion):
                completion = item
            else:
                await emit("token", {"delta": clean_text(item)})
        if completion is None:
            raise UpstreamError("the model stream ended without a result")
        return completion


def _noting_text(emit: EventSink, turn: _Turn) -> EventSink:
    """``emit`` that notes the first ``token`` event (after it, no fallback)."""

    async def noting(event: str, data: dict[str, Any]) -> None:
        if event == "token":
            turn.streamed_text = True
        await emit(event, data)

    return noting


def _current_user_index(messages: list[Message]) -> int:
    """The index of the turn's user message: the last one (tool results are role "tool")."""
    for index in range(len(messages) - 1, 0, -1):
        if messages[index].get("role") == "user":
            return index
    return len(messages) - 1


def error_object(exc: BaseException, trace_id: str) -> dict[str, Any]:
    """The contract's error object (without the outer ``{"error": ...}``)."""
    if not isinstance(exc, AgentError):
        exc = InternalError()
    return {"code": exc.code, "message": exc.message, "trace_id": trace_id, "details": exc.details}


async def stream_events(
    agent: Agent, request: ChatRequest, *, trace_id: str
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """``token`` and ``tool`` events, then exactly one ``done`` or ``error``.

    Closing the iterator early (the client went away) cancels the run.
    """
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def emit(event: str, data: dict[str, Any]) -> None:
        await queue.put((event, data))

    async def runner() -> None:
        try:
            response = await agent.run(request, trace_id=trace_id, emit=emit)
        except AgentError as exc:
            await queue.put(("error", error_object(exc, trace_id)))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("agent run failed", extra={"error_type": type(exc).__name__})
            await queue.put(("error", error_object(exc, trace_id)))
        else:
            await queue.put(("done", response.model_dump(mode="json")))

    task = asyncio.create_task(runner())
    try:
        while True:
            event, data = await queue.get()
            yield event, data
            if event in ("done", "error"):
                break
    finally:
        if not task.done():
            task.cancel()
            logger.info("stream closed early, agent run cancelled")
        await asyncio.gather(task, return_exceptions=True)


def encode_sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
