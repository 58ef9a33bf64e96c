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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .. import observability
from ..sessions.base import SessionStore
from ..web.errors import (
    AgentError,
    InternalError,
    UpstreamError,
    UpstreamTimeout,
    ValidationFailed,
)
from .budget import TokenBudget
from .llm import ChatModel, Completion, Message, ToolCall, turn_deadline
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


@dataclass
class _Turn:
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: list[ToolCallInfo] = field(default_factory=list)


class Agent:
    def __init__(
        self,
        model: ChatModel,
        tools: ToolRegistry,
        store: SessionStore,
        budget: TokenBudget,
        limits: AgentLimits,
    ) -> None:
        self.model = model
        self.tools = tools
        self.store = store
        self.budget = budget
        self.limits = limits

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
        session_id = request.session_id or uuid.uuid4().hex
        turn = _Turn()
        deadline = turn_deadline.set(time.monotonic() + self.limits.request_timeout)
        try:
            async with asyncio.timeout(self.limits.request_timeout):
                answer = await self._run(request, session_id, turn, emit)
        except TimeoutError as exc:
            raise UpstreamTimeout("the agent turn passed REQUEST_TIMEOUT") from exc
        finally:
            turn_deadline.reset(deadline)
            await self.budget.consume(turn.input_tokens + turn.output_tokens)
        # user_message/answer are redacted in the logs unless LOG_PAYLOADS=true.
        logger.info(
            "turn finished",
            extra={
                "session_id": session_id,
                "input_tokens": turn.input_tokens,
                "output_tokens": turn.output_tokens,
                "tool_calls": len(turn.tool_calls),
                "user_message": request.message,
                "answer": answer,
            },
        )
        return ChatResponse(
            answer=answer,
            session_id=session_id,
            trace_id=trace_id,
            usage=Usage(input_tokens=turn.input_tokens, output_tokens=turn.output_tokens),
            tool_calls=turn.tool_calls,
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
        answer: str | None = None
        for _step in range(self.limits.max_steps):
            completion = await self._call_model(messages, tools, emit)
            turn.input_tokens += completion.input_tokens
            turn.output_tokens += completion.output_tokens
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
        return answer

    async def _call_model(
        self, messages: list[Message], tools: list[dict[str, Any]], emit: EventSink | None
    ) -> Completion:
        max_tokens = self.limits.max_output_tokens
        with observability.llm_call(self.model.name) as recorder:
            try:
                if emit is None:
                    completion = await self.model.complete(messages, tools, max_tokens)
                else:
                    completion = await self._stream_model(messages, tools, max_tokens, emit)
            except BaseException:
                recorder.set_status("error")
                raise
            recorder.set_status("ok")
            recorder.set_usage(completion.input_tokens, completion.output_tokens)
        observability.record_tokens(
            self.model.name, completion.input_tokens, completion.output_tokens
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
        messages: list[Message],
        tools: list[dict[str, Any]],
        max_tokens: int,
        emit: EventSink,
    ) -> Completion:
        completion: Completion | None = None
        async for item in self.model.stream(messages, tools, max_tokens):
            if isinstance(item, Completion):
                completion = item
            else:
                await emit("token", {"delta": clean_text(item)})
        if completion is None:
            raise UpstreamError("the model stream ended without a result")
        return completion


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
