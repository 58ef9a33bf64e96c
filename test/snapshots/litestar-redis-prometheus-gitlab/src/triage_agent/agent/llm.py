"""An OpenAI-compatible Chat Completions client over one pooled httpx.AsyncClient.

Non-streaming and streaming (SSE) calls, tool calls, a per-call timeout, and
retries only on 429, 5xx and connection errors, with jittered exponential
backoff that honours ``Retry-After`` unless the wait would pass the turn's
deadline (then the call fails at once: 502). The endpoint is untrusted: its
answers are read up to ``max_response_bytes`` and must fit the shapes in
``upstream.py``; anything else is a 502 ``upstream_error``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from pydantic import ValidationError

from ..web.errors import UpstreamError, UpstreamTimeout
from .upstream import CompletionBody, StreamChunk, UsageBody

logger = logging.getLogger(__name__)

Message = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]

MAX_BACKOFF_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 30.0
# About 220 bytes per streamed token: an answer of 1,024 tokens is ~230 KB.
DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024
DEFAULT_MAX_CONNECTIONS = 256

# time.monotonic() by which the current agent turn must end (set by the agent
# loop); a retry that would wait past it fails at once instead.
turn_deadline: ContextVar[float | None] = ContextVar("turn_deadline", default=None)


class ModelUnavailable(UpstreamError):
    """The endpoint failed in a way another model endpoint may not: 5xx, 429 or
    unreachable, after the retries. The agent loop falls back on it (and on
    ``UpstreamTimeout``), never on a 4xx or a malformed answer (agent/fallback.py)."""


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str

    def as_message_part(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass
class Completion:
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    usage_estimated: bool = False
    # Of input_tokens, those read from the provider's prompt cache.
    cached_input_tokens: int = 0


StreamItem = str | Completion


class ChatModel(Protocol):
    """What the agent loop needs from a model."""

    name: str

    async def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> Completion: ...

    def stream(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> AsyncIterator[StreamItem]:
        """Text deltas (``str``), then exactly one final ``Completion``."""
        ...

    async def aclose(self) -> None: ...


def estimate_tokens(text: str) -> int:
    """About four characters per token; good enough when the API reports no usage."""
    return math.ceil(len(text) / 4) if text else 0


def estimate_prompt_tokens(messages: list[Message]) -> int:
    total = 0
    for message in messages:
        total += 4 + estimate_tokens(str(message.get("content") or ""))
        for call in message.get("tool_calls") or []:
            total += estimate_tokens(json.dumps(call))
    return total


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Full-jitter exponential backoff; a server's Retry-After wins (capped)."""
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER_SECONDS)
    ceiling = min(MAX_BACKOFF_SECONDS, 0.5 * (2**attempt))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not crypto)


def _finish(completion: Completion, messages: list[Message], usage: UsageBody | None) -> Completion:
    if usage is not None:
        completion.input_tokens = usage.prompt_tokens
        completion.output_tokens = usage.completion_tokens
        completion.cached_input_tokens = usage.cached_tokens
    else:
        completion.input_tokens = estimate_prompt_tokens(messages)
        completion.output_tokens = estimate_tokens(completion.content) + sum(
            estimate_tokens(call.arguments) for call in completion.tool_calls
        )
        completion.usage_estimated = True
    return completion


def parse_completion(raw: bytes, messages: list[Message]) -> Completion:
    """A non-streamed answer's body, checked against ``CompletionBody``."""
    try:
        # json.loads, not pydantic's JSON parser: that one rejects a lone
        # surrogate escape, which the agent loop replaces instead (a usable answer).
        body = CompletionBody.model_validate(json.loads(raw))
    except ValueError as exc:  # invalid JSON, or a ValidationError
        raise UpstreamError("the model endpoint returned an unexpected body") from exc
    message = body.choices[0].message
    calls = [
        ToolCall(
            id=call.id or f"call_{index}",
            name=call.function.name,
            arguments=call.function.arguments or "{}",
        )
        for index, call in enumerate(message.tool_calls or [])
    ]
    completion = Completion(content=message.content or "", tool_calls=calls)
    return _finish(completion, messages, body.usage)


def parse_chunk(data: str) -> StreamChunk:
    """One ``data:`` event of a stream, checked against ``StreamChunk``."""
    try:
        return StreamChunk.model_validate(json.loads(data))
    except ValidationError as exc:
        raise UpstreamError("the model endpoint sent an unexpected stream chunk") from exc
    except ValueError as exc:
        raise UpstreamError("the model endpoint sent an invalid stream") from exc


def _too_large(limit: int) -> UpstreamError:
    return UpstreamError(f"the model endpoint's answer passed LLM_MAX_RESPONSE_BYTES ({limit})")


async def _bounded_chunks(response: httpx.Response, limit: int) -> AsyncIterator[bytes]:
    """The response body in chunks, failing once more than ``limit`` bytes came."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        yield chunk


async def _sse_data(response: httpx.Response, limit: int) -> AsyncIterator[str]:
    """The payloads of an SSE body's ``data:`` lines, within ``limit`` bytes in all.

    Written here rather than httpx's ``aiter_lines()`` because that one holds a
    whole line in memory before yielding it, however long it grows. Lines are
    split as bytes (a newline byte is never inside a UTF-8 sequence) and only
    ``data:`` lines are decoded; the other fields and the blank separators
    are skipped where they are found, with one generator between the socket
    and the parser.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    size = 0
    pending = b""
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        pending += chunk
        if b"\n" not in chunk:
            continue
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                yield line[5:].strip().decode("utf-8", "replace")
    if pending.startswith(b"data:"):
        yield pending[5:].strip().decode("utf-8", "replace")


def _fail_fast(delay: float, reason: str) -> ModelUnavailable | None:
    """An error when waiting ``delay`` seconds would pass the turn's deadline."""
    deadline = turn_deadline.get()
    left = None if deadline is None else deadline - time.monotonic()
    if left is not None and delay >= left:
        return ModelUnavailable(
            f"the model endpoint failed ({reason}) and a retry in {delay:.1f} s "
            f"would pass the turn's remaining {max(0.0, left):.1f} s"
        )
    return None


class OpenAIChatModel:
    """Any OpenAI-compatible ``/chat/completions`` endpoint."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float,
        max_retries: int,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.name = model
        self.max_retries = max_retries
        self.max_response_bytes = max_response_bytes
        self._sleep = sleep
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            # As many kept-alive connections as turns may run (MAX_INFLIGHT_TURNS is at
            # most LLM_MAX_CONNECTIONS): a burst never waits for a connection in the
            # pool, whose queue is rescanned on every change (quadratic when long),
            # and the connections opened for it are reused afterwards.
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def _payload(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int, stream: bool
    ) -> dict[str, Any]:
        # Prompt caching: the body opens with what every request of a session
        # shares, in the same bytes (model, tools in name order, the system
        # prompt, then the history); what varies comes last.
        payload: dict[str, Any] = {"model": self.name}
        if tools:
            payload["tools"] = tools
        payload["messages"] = messages
        payload["max_tokens"] = max_tokens
        if stream:
            payload["stream"] = True
            payload["stream_options"] = {"include_usage": True}
        return payload

    async def _send(self, payload: dict[str, Any], *, stream: bool) -> httpx.Response:
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                request = self._client.build_request("POST", "chat/completions", json=payload)
                response = await self._client.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                if not isinstance(exc, httpx.ConnectTimeout) or attempt >= self.max_retries:
                    raise UpstreamTimeout("the model endpoint timed out") from exc
                reason = "connect timeout"
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise ModelUnavailable("the model endpoint is unreachable") from exc
                reason = type(exc).__name__
            else:
                status = response.status_code
                if status < 400:
                    return response
                await response.aclose()
                retryable = status == 429 or status >= 500
                if not retryable:
                    raise UpstreamError(f"the model endpoint answered {status}")
                if attempt >= self.max_retries:
                    raise ModelUnavailable(f"the model endpoint answered {status}")
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                reason = f"status {status}"
                if retry_after is not None and retry_after > MAX_RETRY_AFTER_SECONDS:
                    raise ModelUnavailable(
                        f"the model endpoint answered {status} with Retry-After "
                        f"{retry_after:.0f} s, longer than {MAX_RETRY_AFTER_SECONDS:.0f} s"
                    )
            delay = backoff_delay(attempt, retry_after)
            error = _fail_fast(delay, reason)
            if error is not None:
                raise error
            attempt += 1
            logger.warning(
                "model call failed, retrying",
                extra={"reason": reason, "attempt": attempt, "delay_s": round(delay, 3)},
            )
            await self._sleep(delay)

    async def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> Completion:
        # Sent as a stream so that the body is read within max_response_bytes.
        response = await self._send(self._payload(messages, tools, max_tokens, False), stream=True)
        try:
            raw = b"".join([c async for c in _bounded_chunks(response, self.max_response_bytes)])
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("the model endpoint timed out") from exc
        except httpx.TransportError as exc:
            raise ModelUnavailable("the model endpoint broke off its answer") from exc
        finally:
            await response.aclose()
        return parse_completion(raw, messages)

    async def stream(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> AsyncIterator[StreamItem]:
        response = await self._send(self._payload(messages, tools, max_tokens, True), stream=True)
        answer = _StreamedAnswer()
        try:
            async for data in _sse_data(response, self.max_response_bytes):
                if data == "[DONE]":
                    answer.finished = True
                    break
                for text in answer.add(parse_chunk(data)):
                    yield text
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("the model endpoint timed out while streaming") from exc
        except httpx.TransportError as exc:
            raise ModelUnavailable("the model stream broke off") from exc
        finally:
            await response.aclose()
        yield answer.completion(messages)


@dataclass
class _StreamedAnswer:
    """A streamed answer being put together from its chunks."""

    content: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, str]] = field(default_factory=dict)
    usage: UsageBody | None = None
    choices: int = 0
    # Complete only with [DONE] or a finish_reason: a stream that just stops
    # was cut off, and its partial answer must not be taken (or stored).
    finished: bool = False

    def add(self, chunk: StreamChunk) -> list[str]:
        """Take one chunk in; its text deltas."""
        texts: list[str] = []
        self.usage = chunk.usage or self.usage
        self.choices += len(chunk.choices)
        for choice in chunk.choices:
            self.finished = self.finished or choice.finish_reason is not None
            delta = choice.delta
            if delta is None:
                continue
            if delta.content:
                self.content.append(delta.content)
                texts.append(delta.content)
            for part in delta.tool_calls or []:
                slot = self.calls.setdefault(part.index, {"id": "", "name": "", "arguments": ""})
                slot["id"] = part.id or slot["id"]
                if part.function is not None:
                    slot["name"] += part.function.name or ""
                    slot["arguments"] += part.function.arguments or ""
        return texts

    def completion(self, messages: list[Message]) -> Completion:
        if not self.finished:
            raise UpstreamError("the model stream ended without [DONE] or a finish_reason")
        if not self.choices:
            raise UpstreamError("the model stream had no choices")
        tool_calls = [
            ToolCall(
                id=slot["id"] or f"call_{index}",
                name=slot["name"],
                arguments=slot["arguments"] or "{}",
            )
            for index, slot in sorted(self.calls.items())
        ]
        completion = Completion(content="".join(self.content), tool_calls=tool_calls)
        return _finish(completion, messages, self.usage)
