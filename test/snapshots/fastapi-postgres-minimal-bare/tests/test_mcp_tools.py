"""MCP servers as the agent's tools: a real SDK-built server (tests/mcp_test_server.py)
over stdio and over Streamable HTTP on loopback, driven through the agent loop
with the fake model's ``use tool <name> <json>`` trigger.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio

from durable_conversation_ledger_agent_europe.agent.budget import TokenBudget
from durable_conversation_ledger_agent_europe.agent.fake import FakeChatModel
from durable_conversation_ledger_agent_europe.agent.loop import Agent, AgentLimits
from durable_conversation_ledger_agent_europe.agent.mcp_config import McpServerConfig
from durable_conversation_ledger_agent_europe.agent.mcp_tools import McpTools
from durable_conversation_ledger_agent_europe.agent.schemas import ChatRequest, ChatResponse
from durable_conversation_ledger_agent_europe.agent.tools import default_registry
from durable_conversation_ledger_agent_europe.sessions.memory import MemorySessionStore

from mcp_fixtures import (
    TOKEN,
    TOKEN_ENV,
    free_port,
    http_entry,
    http_server,
    start_http_server,
    stdio_entry,
    stop,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    """The test server over Streamable HTTP, requiring ``Authorization: Bearer TOKEN``."""
    with http_server() as url:
        yield url


def servers(*entries: dict[str, Any]) -> tuple[McpServerConfig, ...]:
    return tuple(McpServerConfig.model_validate(entry) for entry in entries)


class Harness:
    def __init__(self, agent: Agent, mcp: McpTools) -> None:
        self.agent = agent
        self.mcp = mcp

    async def ask(self, message: str) -> ChatResponse:
        return await self.agent.run(ChatRequest(message=message), trace_id="t" * 32)


@asynccontextmanager
async def start(
    *entries: dict[str, Any], environ: dict[str, str] | None = None
) -> AsyncIterator[Harness]:
    registry = default_registry()
    mcp = McpTools(servers(*entries), registry, environ or {TOKEN_ENV: TOKEN})
    store = MemorySessionStore(max_messages=50)
    agent = Agent(
        model=FakeChatModel(),
        tools=registry,
        store=store,
        budget=TokenBudget(store, 0),
        limits=AgentLimits(),
    )
    await mcp.start()
    try:
        yield Harness(agent, mcp)
    finally:
        await mcp.stop()


# One stdio server process for the tests that share it (starting one costs a second or more).
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stdio_harness() -> AsyncIterator[Harness]:
    async with start(
        stdio_entry(
            tools=["echo", "slow", "big", "fail", "picture"],
            timeout_seconds=3.0,
            max_result_bytes=300,
        )
    ) as harness:
        yield harness


# --- through the agent loop ------------------------------------------------------------


async def test_a_stdio_tool_is_called_and_its_result_reaches_the_answer(
    stdio_harness: Harness,
) -> None:
    assert stdio_harness.mcp.checks() == {"mcp:local": ("ok", False)}
    response = await stdio_harness.ask('use tool local__echo {"text": "hello over stdio"}')
    assert response.answer == "The answer is echo: hello over stdio."
    assert [c.model_dump() for c in response.tool_calls] == [
        {"name": "local__echo", "status": "ok"}
    ]


async def test_tools_keep_their_json_schema_and_only_allowed_ones_are_offered(
    stdio_harness: Harness,
) -> None:
    schemas = {s["function"]["name"]: s["function"] for s in stdio_harness.agent.tools.schemas()}
    assert {"calculator", "current_time", "local__echo", "local__slow"} <= set(schemas)
    assert "local__secret" not in schemas
    assert "local__whoami" not in schemas
    echo = schemas["local__echo"]
    assert echo["parameters"]["properties"]["text"]["type"] == "string"
    assert echo["parameters"]["required"] == ["text"]
    assert echo["description"] == "Say ``text`` back."
    response = await stdio_harness.ask("use tool local__secret {}")
    assert response.answer == "The tool local__secret is not available."
    assert response.tool_calls == []


async def test_a_slow_tool_times_out_into_a_tool_error(stdio_harness: Harness) -> None:
    started = time.monotonic()
    response = await stdio_harness.ask('use tool local__slow {"seconds": 30}')
    assert time.monotonic() - started < 10
    assert [c.model_dump() for c in response.tool_calls] == [
        {"name": "local__slow", "status": "error"}
    ]
    assert "did not answer within 3 s" in response.answer
    # The connection is still good for the next call.
    again = await stdio_harness.ask('use tool local__echo {"text": "still here"}')
    assert again.answer == "The answer is echo: still here."


async def test_an_oversized_result_is_cut(stdio_harness: Harness) -> None:
    response = await stdio_harness.ask('use tool local__big {"size": 5000}')
    assert response.tool_calls[0].status == "error"
    assert "larger than 300 bytes and was cut" in response.answer
    assert "x" * 200 in response.answer
    assert "x" * 400 not in response.answer


async def test_a_failing_tool_and_bad_arguments_are_tool_errors(stdio_harness: Harness) -> None:
    failed = await stdio_harness.ask("use tool local__fail {}")
    assert failed.tool_calls[0].status == "error"
    assert (
        "error: the tool failed: Error executing tool fail: this tool always fails" in failed.answer
    )
    bad = await stdio_harness.ask('use tool local__echo {"text": ')
    assert bad.tool_calls[0].status == "error"
    assert "not valid JSON" in bad.answer
    wrong = await stdio_harness.ask('use tool local__echo {"text": 5}')
    assert wrong.tool_calls[0].status == "error"


async def test_other_content_types_are_summarised(stdio_harness: Harness) -> None:
    response = await stdio_harness.ask("use tool local__picture {}")
    assert "a caption" in response.answer
    assert "[image content, image/png," in response.answer


async def test_logs_carry_no_tool_arguments_or_results(
    stdio_harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await stdio_harness.ask('use tool local__echo {"text": "confidential-argument"}')
    for record in caplog.records:
        # The turn's own log line carries the message and answer, redacted by the log
        # formatter unless LOG_PAYLOADS=true (tests/test_logs.py); MCP adds nothing.
        if record.getMessage() == "turn finished":
            continue
        assert "confidential-argument" not in json.dumps(record.__dict__, default=str)


async def test_streamable_http_with_auth_headers_from_the_environment(remote: str) -> None:
    async with start(http_entry(remote, tools=["whoami", "echo"])) as harness:
        assert harness.mcp.checks() == {"mcp:remote": ("ok", False)}
        response = await harness.ask("use tool remote__whoami {}")
        assert response.answer == f"The answer is authorization=Bearer {TOKEN}."
        echo = await harness.ask('use tool remote__echo {"text": "over http"}')
        assert echo.answer == "The answer is echo: over http."


async def test_a_wrong_token_leaves_the_server_unavailable(remote: str) -> None:
    async with start(http_entry(remote), environ={TOKEN_ENV: "wrong"}) as harness:
        assert harness.mcp.checks() == {"mcp:remote": ("error", False)}
        names = harness.agent.tools.names()
        assert not [name for name in names if name.startswith("remote__")]
        response = await harness.ask("use tool remote__echo {}")
        assert response.answer == "The tool remote__echo is not available."


async def test_a_server_that_comes_up_later_is_connected_in_the_background() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    async with start(http_entry(url, connect_timeout_seconds=5.0)) as harness:
        assert harness.mcp.checks()["mcp:remote"][0] == "error"
        process = start_http_server(port)
        try:
            deadline = time.monotonic() + 30
            while harness.mcp.checks()["mcp:remote"][0] != "ok":
                assert time.monotonic() < deadline, "never reconnected"
                await asyncio.sleep(0.1)
            response = await harness.ask('use tool remote__echo {"text": "late"}')
            assert response.answer == "The answer is echo: late."
            # The server goes away: the call is a tool error and the tools leave.
            stop(process)
            gone = await harness.ask('use tool remote__echo {"text": "gone"}')
            assert gone.tool_calls[0].status == "error"
            assert "could not be reached" in gone.answer
            await asyncio.sleep(0.1)
            assert "remote__echo" not in harness.agent.tools.names()
        finally:
            stop(process)
