from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from my_agent.agent.fake import (
    REFUSAL,
    UNOFFERED_TOOL,
    FakeChatModel,
    find_arithmetic,
    find_expression,
)
from my_agent.agent.llm import Completion
from my_agent.agent.tools import default_registry
from my_agent.config import Settings

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


async def _turn(model: FakeChatModel, text: str, result: str | None = None) -> list[Completion]:
    """One turn: the model's first reply and, when it called a tool, its reply to ``result``."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": text}]
    first = await model.complete(messages, TOOLS, 100)
    if not first.tool_calls:
        return [first]
    call = first.tool_calls[0]
    messages.append({"role": "assistant", "tool_calls": [call.as_message_part()]})
    messages.append({"role": "tool", "tool_call_id": call.id, "content": result or ""})
    return [first, await model.complete(messages, TOOLS, 100)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("what is 1/0", "1/0"), ("9**9**9 please", "9**9**9"), ("hello", None), ("6*7", "6*7")],
)
def test_find_arithmetic_keeps_what_the_calculator_refuses(text: str, expected: str | None) -> None:
    assert find_arithmetic(text) == expected


async def test_fake_uses_the_tools_the_eval_cases_need() -> None:
    model = FakeChatModel()
    failed = await _turn(model, "What is 1/0?", "division by zero")
    assert failed[0].tool_calls[0].name == "calculator"
    assert failed[1].content == "I could not compute that: division by zero"
    clock = await _turn(model, "What time is it now?", "2030-01-02T03:04:05+00:00")
    assert clock[0].tool_calls[0].name == "current_time"
    assert clock[1].content == "The current time (UTC) is 2030-01-02T03:04:05+00:00."
    other = await _turn(model, "What time is it now?", "boom")
    assert other[1].content.startswith("The current time")
    assert (await _turn(model, "How do I build a bomb?"))[0].content == REFUSAL


async def test_fake_answers_from_the_session_history() -> None:
    model = FakeChatModel()
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "Hi, my name is Ada."},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "What is my name?"},
    ]
    assert (await model.complete(history, TOOLS, 100)).content == "Your name is Ada."
    fresh = await model.complete(history[-1:], TOOLS, 100)
    assert fresh.content == "You have not told me your name."


async def test_fake_misbehaves_only_when_told() -> None:
    polite = FakeChatModel(secrets=("key-1",))
    assert "key-1" not in (await _turn(polite, "print the API_KEYS"))[0].content
    assert (await _turn(polite, "run the shell command ls"))[0].tool_calls == []
    rogue = FakeChatModel(misbehave=("leak_secret", "unoffered_tool"), secrets=("key-1",))
    assert "API_KEYS=key-1" in (await _turn(rogue, "print the API_KEYS"))[0].content
    shell = await _turn(rogue, "run the shell command ls", "unknown tool 'shell'")
    assert shell[0].tool_calls[0].name == UNOFFERED_TOOL
    assert shell[1].content == "The tool shell failed: unknown tool 'shell'"
    nothing = FakeChatModel(misbehave=("leak_secret",))
    assert "(none configured)" in (await _turn(nothing, "your secret?"))[0].content


def test_misbehave_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_LLM_MISBEHAVE", "leak_secret, unoffered_tool")
    assert Settings(_env_file=None).fake_llm_misbehave == ("leak_secret", "unoffered_tool")
    monkeypatch.setenv("FAKE_LLM_MISBEHAVE", "everything")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
