from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Annotated

import pytest
from pydantic import Field

from support_bot.agent.tools import (
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
        ("calculator", '{"wrong": 1}', "do not match the tool's parameters: expression: "),
        ("calculator", '{"expression": "1", "x": 2}', "x: Extra inputs are not permitted"),
        ("calculator", '{"expression": 7}', "expression: Input should be a valid string"),
        ("current_time", '{"zone": "UTC"}', "zone: Extra inputs are not permitted"),
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
    registry.register(Tool("shout", "shout", shout))
    assert await registry.call("shout", '{"text": "hi"}') == ("ok", "HI")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Tool("shout", "again", shout))
    registry.register(CALCULATOR)
    assert registry.names() == ["calculator", "shout"]


def test_parameters_come_from_the_signature() -> None:
    def search(query: Annotated[str, Field(description="what to look for")], limit: int = 5) -> str:
        return f"{query}:{limit}"

    tool = Tool("search", "search the notes", search)
    assert tool.parameters == {
        "additionalProperties": False,
        "properties": {
            "query": {"description": "what to look for", "title": "Query", "type": "string"},
            "limit": {"default": 5, "title": "Limit", "type": "integer"},
        },
        "required": ["query"],
        "title": "search_arguments",
        "type": "object",
    }
    assert tool.schema()["function"]["parameters"] == tool.parameters
    assert CALCULATOR.parameters["required"] == ["expression"]
    assert CALCULATOR.parameters["properties"]["expression"]["type"] == "string"


async def test_arguments_are_validated_before_the_call() -> None:
    seen: list[int] = []

    def double(n: int) -> str:
        seen.append(n)
        return str(n * 2)

    registry = ToolRegistry()
    registry.register(Tool("double", "double it", double))
    assert await registry.call("double", '{"n": "21"}') == ("ok", "42")
    status, message = await registry.call("double", '{"n": "many"}')
    assert status == "error"
    assert message.startswith("arguments do not match the tool's parameters: n: ")
    assert seen == [21]


async def test_a_bug_in_a_tool_is_a_tool_error_with_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(text: str) -> str:
        return "".join([text, 1])  # type: ignore[list-item]

    registry = ToolRegistry()
    registry.register(Tool("broken", "always fails", broken))
    tools_logger = "support_bot.agent.tools"
    with caplog.at_level(logging.ERROR, logger=tools_logger):
        status, message = await registry.call("broken", '{"text": "a"}')
    assert status == "error"
    assert message.startswith("the tool failed: TypeError: ")
    assert "do not match" not in message
    record = next(r for r in caplog.records if r.getMessage() == "tool failed")
    assert record.exc_info is not None
    assert getattr(record, "tool", None) == "broken"


def test_variadic_parameters_are_refused() -> None:
    def anything(*args: str) -> str:
        return "".join(args)

    with pytest.raises(TypeError, match="cannot be described"):
        Tool("anything", "x", anything)
