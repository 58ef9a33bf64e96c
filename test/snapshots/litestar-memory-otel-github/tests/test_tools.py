from __future__ import annotations

import json
from datetime import datetime

import pytest

from lite_agent_with_the_longest_allowed_name.agent.tools import (
    CALCULATOR,
    Tool,
    ToolError,
    ToolRegistry,
    calculate,
    current_time,
    default_registry,
    format_number,
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("6*7", "42"),
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("7 / 2", "3.5"),
        ("7 // 2", "3"),
        ("7 % 4", "3"),
        ("2 ** 10", "1024"),
        ("2 ^ 3", "8"),
        ("-3 + +1", "-2"),
        ("0.1 + 0.2", "0.3"),
        ("10 / 4 * 2", "5"),
    ],
)
def test_calculator(expression: str, expected: str) -> None:
    assert calculate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("", "non-empty"),
        ("   ", "non-empty"),
        ("__import__('os').system('id')", "unsupported"),
        ("abs(-1)", "unsupported"),
        ("x + 1", "unsupported"),
        ("(1).real", "unsupported"),
        ("'a' * 3", "unsupported"),
        ("[1, 2]", "unsupported"),
        ("True + 1", "unsupported"),
        ("1 +", "not an arithmetic"),
        ("1 / 0", "division by zero"),
        ("2 ** 1000", "exponent"),
        ("9 ** 99 ** 2", "exponent"),
        ("10 ** 99 * 10 ** 99", "too large"),
        ("1" * 201, "longer than"),
        ("+".join(["1"] * 40), "too complex"),
        ("1e308 * 10", "too large"),
        ("1e50 ** 10", "too large"),
    ],
)
def test_calculator_refuses(expression: str, reason: str) -> None:
    with pytest.raises(ToolError, match=reason):
        calculate(expression)


def test_calculator_rejects_non_string() -> None:
    with pytest.raises(ToolError):
        calculate(42)  # type: ignore[arg-type]


def test_format_number() -> None:
    assert format_number(2.0) == "2"
    assert format_number(1 / 3) == "0.333333333333"
    assert format_number(1e20) == "1e+20"
    assert format_number(5) == "5"


def test_current_time_is_utc_iso() -> None:
    value = datetime.fromisoformat(current_time())
    assert value.utcoffset() is not None
    assert value.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


async def test_registry_calls_tools() -> None:
    registry = default_registry()
    assert registry.names() == ["calculator", "current_time"]
    assert [s["function"]["name"] for s in registry.schemas()] == ["calculator", "current_time"]
    assert await registry.call("calculator", json.dumps({"expression": "6*7"})) == ("ok", "42")
    status, _ = await registry.call("current_time", "")
    assert status == "ok"


@pytest.mark.parametrize(
    ("name", "arguments", "reason"),
    [
        ("nope", "{}", "unknown tool"),
        ("calculator", "{not json", "not valid JSON"),
        ("calculator", "[1]", "JSON object"),
        ("calculator", '{"wrong": 1}', "do not match"),
        ("calculator", '{"expression": "1/0"}', "division by zero"),
    ],
)
async def test_registry_reports_errors(name: str, arguments: str, reason: str) -> None:
    status, message = await default_registry().call(name, arguments)
    assert status == "error"
    assert reason in message


async def test_registry_async_tool_and_duplicates() -> None:
    async def shout(text: str) -> str:
        return text.upper()

    registry = ToolRegistry()
    registry.register(Tool("shout", "shout", {"type": "object"}, shout))
    assert await registry.call("shout", '{"text": "hi"}') == ("ok", "HI")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Tool("shout", "again", {}, shout))
    registry.register(CALCULATOR)
    assert registry.names() == ["calculator", "shout"]
