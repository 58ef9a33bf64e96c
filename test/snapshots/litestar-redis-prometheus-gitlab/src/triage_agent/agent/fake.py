"""A deterministic fake model, used when neither LLM_BASE_URL nor LLM_API_KEY is set.

It behaves like a tool-using model so the whole loop runs offline: a message
containing an arithmetic expression ("what is 6*7") makes it request the
``calculator`` tool, and the tool's result becomes its answer ("... 42").
A message ``use tool <name> <json object>`` makes it call that tool with those
arguments (``use tool docs__search {"query": "mcp"}``), if the tool is offered.
Anything else gets a reply derived from the message. ``FAKE_LLM_LATENCY_MS``
makes every call take that long (spread over the streamed tokens).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from .llm import (
    Completion,
    Message,
    Sleep,
    StreamItem,
    ToolCall,
    estimate_prompt_tokens,
    estimate_tokens,
)
from .tools import ToolError, calculate

_USE_TOOL = re.compile(r"^\s*use tool ([a-zA-Z0-9_-]{1,64})(?:\s+(.*))?$", re.DOTALL)
_EXPRESSION = re.compile(r"[\d(][\d\s.+\-*/%^()]*[+\-*/%^][\d\s.+\-*/%^()]*[\d)]")


def find_expression(text: str) -> str | None:
    """The first arithmetic expression in ``text`` that the calculator accepts."""
    for match in _EXPRESSION.finditer(text):
        candidate = match.group(0).strip()
        if not re.search(r"\d", candidate):
            continue
        try:
            calculate(candidate)
        except ToolError:
            continue
        return candidate
    return None


class FakeChatModel:
    name = "fake"

    def __init__(self, latency_ms: int = 0, sleep: Sleep = asyncio.sleep) -> None:
        self.latency = latency_ms / 1000
        self._sleep = sleep

    async def aclose(self) -> None:
        return None

    def _decide(self, messages: list[Message], tools: list[dict[str, Any]]) -> Completion:
        last = messages[-1] if messages else {"role": "user", "content": ""}
        if last.get("role") == "tool":
            result = str(last.get("content") or "")
            if result.startswith("error"):
                answer = f"I could not compute that: {result}"
            else:
                answer = f"The answer is {result}."
            return Completion(content=answer)
        text = str(last.get("content") or "")
        tool_names = {tool["function"]["name"] for tool in tools}
        requested = _USE_TOOL.match(text)
        if requested is not None:
            return self._use_tool(requested.group(1), requested.group(2) or "{}", tool_names)
        expression = find_expression(text) if "calculator" in tool_names else None
        if expression is not None:
            digest = hashlib.sha256(expression.encode()).hexdigest()[:12]
            arguments = json.dumps({"expression": expression})
            return Completion(
                tool_calls=[ToolCall(id=f"call_{digest}", name="calculator", arguments=arguments)]
            )
        words = text.split()
        preview = " ".join(words[:12]) + (" ..." if len(words) > 12 else "")
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        return Completion(content=f"(fake model, reply {digest}) You said: {preview}")

    @staticmethod
    def _use_tool(name: str, arguments: str, tool_names: set[str]) -> Completion:
        if name not in tool_names:
            return Completion(content=f"The tool {name} is not available.")
        digest = hashlib.sha256(f"{name} {arguments}".encode()).hexdigest()[:12]
        return Completion(
            tool_calls=[ToolCall(id=f"call_{digest}", name=name, arguments=arguments.strip())]
        )

    def _with_usage(self, completion: Completion, messages: list[Message]) -> Completion:
        completion.input_tokens = estimate_prompt_tokens(messages)
        completion.output_tokens = estimate_tokens(completion.content) + sum(
            estimate_tokens(call.arguments) for call in completion.tool_calls
        )
        completion.usage_estimated = True
        return completion

    async def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> Completion:
        if self.latency:
            await self._sleep(self.latency)
        return self._with_usage(self._decide(messages, tools), messages)

    async def stream(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> AsyncIterator[StreamItem]:
        completion = self._with_usage(self._decide(messages, tools), messages)
        tokens = re.findall(r"\S+\s*", completion.content)
        pause = self.latency / len(tokens) if tokens else self.latency
        if not tokens and pause:
            await self._sleep(pause)
        for token in tokens:
            if pause:
                await self._sleep(pause)
            yield token
        yield completion
