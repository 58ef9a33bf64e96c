from __future__ import annotations

import json
from typing import Any

import pytest

from durable_conversation_ledger_agent_europe.agent.fake import FakeChatModel, find_expression
from durable_conversation_ledger_agent_europe.agent.llm import Completion
from durable_conversation_ledger_agent_europe.agent.tools import default_registry

TOOLS = default_registry().schemas()


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what is 6*7", "6*7"),
        ("compute (2 + 3) * 4 please", "(2 + 3) * 4"),
        ("hello there", None),
        ("call me at 555", None),
        ("1/0 or 2+2", "2+2"),
    ],
)
def test_find_expression(text: str, expected: str | None) -> None:
    assert find_expression(text) == expected


async def test_fake_requests_the_calculator_then_answers() -> None:
    model = FakeChatModel()
    messages: list[dict[str, Any]] = [{"role": "user", "content": "what is 6*7"}]
    first = await model.complete(messages, TOOLS, 100)
    assert first.content == ""
    assert len(first.tool_calls) == 1
    call = first.tool_calls[0]
    assert call.name == "calculator"
    assert json.loads(call.arguments) == {"expression": "6*7"}
    assert first.input_tokens > 0
    assert first.usage_estimated
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "42"})
    second = await model.complete(messages, TOOLS, 100)
    assert second.content == "The answer is 42."
    assert second.tool_calls == []
    # deterministic
    assert (await model.complete(messages[:1], TOOLS, 100)).tool_calls == first.tool_calls


async def test_fake_reports_tool_errors_and_plain_replies() -> None:
    model = FakeChatModel()
    failed = await model.complete([{"role": "tool", "content": "error: boom"}], TOOLS, 100)
    assert failed.content.startswith("I could not compute that")
    plain = await model.complete([{"role": "user", "content": "hello " * 20}], TOOLS, 100)
    assert "You said: hello" in plain.content
    assert plain.content.endswith("...")
    no_tools = await model.complete([{"role": "user", "content": "what is 6*7"}], [], 100)
    assert no_tools.tool_calls == []
    empty = await model.complete([], TOOLS, 100)
    assert "You said" in empty.content
    await model.aclose()


async def test_fake_latency_is_spread_over_streamed_tokens() -> None:
    sleeps = Sleeps()
    model = FakeChatModel(latency_ms=1000, sleep=sleeps)
    items = [item async for item in model.stream([{"role": "user", "content": "a b c"}], TOOLS, 10)]
    tokens = [item for item in items if isinstance(item, str)]
    final = items[-1]
    assert isinstance(final, Completion)
    assert "".join(tokens) == final.content
    assert sum(sleeps.calls) == pytest.approx(1.0)

    sleeps.calls.clear()
    items = [item async for item in model.stream([{"role": "user", "content": "2+2"}], TOOLS, 10)]
    assert len(items) == 1
    assert sleeps.calls == [1.0]

    sleeps.calls.clear()
    await model.complete([{"role": "user", "content": "x"}], TOOLS, 10)
    assert sleeps.calls == [1.0]
