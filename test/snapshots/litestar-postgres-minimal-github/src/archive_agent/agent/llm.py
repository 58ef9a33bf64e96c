"""An OpenAI-compatible Chat Completions client over one pooled httpx.AsyncClient.

Non-streaming and streaming (SSE) calls, tool calls, a per-call timeout, and
retries only on 429, 5xx and connection errors, with jittered exponential
backoff that honours ``Retry-After``.
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
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from ..web.errors import UpstreamError, UpstreamTimeout

logger = logging.getLogger(__name__)

Message = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]

MAX_BACKOFF_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 30.0


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


def _finish(completion: Completion, messages: list[Message], usage: Any) -> Completion:
    if isinstance(usage, dict) and "prompt_tokens" in usage:
        completion.input_tokens = int(usage.get("prompt_tokens") or 0)
        completion.output_tokens = int(usage.get("completion_tokens") or 0)
    else:
        completion.input_tokens = estimate_prompt_tokens(messages)
        completion.output_tokens = estimate_tokens(completion.content) + sum(
            estimate_tokens(call.arguments) for call in completion.tool_calls
        )
        completion.usage_estimated = True
    return completion


def parse_completion(body: Any, messages: list[Message]) -> Completion:
    try:
        message = body["choices"][0]["message"]
        calls = [
            ToolCall(
                id=str(call.get("id") or f"call_{index}"),
                name=str(call["function"]["name"]),
                arguments=str(call["function"].get("arguments") or "{}"),
            )
            for index, call in enumerate(message.get("tool_calls") or [])
        ]
        completion = Completion(content=str(message.get("content") or ""), tool_calls=calls)
    except (KeyError, IndexError, TypeError) as exc:
        raise UpstreamError("the model endpoint returned an unexpected body") from exc
    return _finish(completion, messages, body.get("usage"))


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
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.name = model
        self.max_retries = max_retries
        self._sleep = sleep
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def _payload(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int, stream: bool
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.name,
            "messages": messages,
            "max_tokens": max_tokens,
        }
        if tools:
            payload["tools"] = tools
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
                    raise UpstreamError("the model endpoint is unreachable") from exc
                reason = type(exc).__name__
            else:
                status = response.status_code
                if status < 400:
                    return response
                await response.aclose()
                retryable = status == 429 or status >= 500
                if not retryable or attempt >= self.max_retries:
                    raise UpstreamError(f"the model endpoint answered {status}")
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                reason = f"status {status}"
            delay = backoff_delay(attempt, retry_after)
            attempt += 1
            logger.warning(
                "model call failed, retrying",
                extra={"reason": reason, "attempt": attempt, "delay_s": round(delay, 3)},
            )
            await self._sleep(delay)

    async def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> Completion:
        response = await self._send(self._payload(messages, tools, max_tokens, False), stream=False)
        try:
            body = response.json()
        except ValueError as exc:
            raise UpstreamError("the model endpoint returned invalid JSON") from exc
        return parse_completion(body, messages)

    async def stream(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> AsyncIterator[StreamItem]:
        response = await self._send(self._payload(messages, tools, max_tokens, True), stream=True)
        content: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        usage: Any = None
        try:
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except ValueError as exc:
                    raise UpstreamError("the model endpoint sent an invalid stream") from exc
                if chunk.get("usage"):
                    usage = chunk["usage"]
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    text = delta.get("content")
                    if text:
                        content.append(text)
                        yield text
                    for part in delta.get("tool_calls") or []:
                        slot = calls.setdefault(
                            int(part.get("index", 0)), {"id": "", "name": "", "arguments": ""}
                        )
                        function = part.get("function") or {}
                        slot["id"] = part.get("id") or slot["id"]
                        slot["name"] += function.get("name") or ""
                        slot["arguments"] += function.get("arguments") or ""
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("the model endpoint timed out while streaming") from exc
        except httpx.TransportError as exc:
            raise UpstreamError("the model stream broke off") from exc
        finally:
            await response.aclose()
        tool_calls = [
            ToolCall(
                id=slot["id"] or f"call_{index}",
                name=slot["name"],
                arguments=slot["arguments"] or "{}",
            )
            for index, slot in sorted(calls.items())
        ]
        yield _finish(Completion(content="".join(content), tool_calls=tool_calls), messages, usage)
