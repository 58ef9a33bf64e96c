"""``/mcp``: the service as an MCP server, called with the ``mcp`` SDK's client.

The service runs under uvicorn on loopback (its own thread and event loop), so
the SDK's client talks real Streamable HTTP to it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from my_agent.api import create_app
from my_agent.config import Settings

from conftest import ClientFactory, make_settings
from mcp_fixtures import free_port

KEY = "test-key-1"


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The service on 127.0.0.1:<free port> until the end of the ``with``; yields its URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=free_port(),
            lifespan="on",
            log_config=None,
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the service did not start"
        assert time.monotonic() < deadline, "the service did not start in time"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    with serving(make_settings(api_keys=KEY, mcp_server_enabled=True)) as url:
        yield url


def mcp_client(base_url: str, key: str | None = KEY) -> Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Client(
        streamable_http_client(f"{base_url}/mcp", http_client=httpx2.AsyncClient(headers=headers)),
        cache=None,
    )


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def call_chat(base_url: str, arguments: dict[str, Any]) -> CallToolResult:
    async with mcp_client(base_url) as client:
        return await client.call_tool("chat", arguments)


async def test_initialize_and_list_tools(service: str) -> None:
    async with mcp_client(service) as client:
        assert client.server_info is not None
        assert client.server_info.name == "my-agent"
        listed = await client.list_tools()
    assert [tool.name for tool in listed.tools] == ["chat"]
    schema = listed.tools[0].input_schema
    assert schema["required"] == ["message"]
    assert set(schema["properties"]) == {"message", "session_id"}


async def test_chat_answers_and_continues_a_session(service: str) -> None:
    first = await call_chat(service, {"message": "what is 6*7"})
    assert not first.is_error, first.content
    answer = first.structured_content
    assert answer["answer"] == "The answer is 42."
    assert len(answer["trace_id"]) == 32
    assert json.loads(text_of(first)) == answer
    again = await call_chat(service, {"message": "hello", "session_id": answer["session_id"]})
    assert again.structured_content["session_id"] == answer["session_id"]


async def test_an_invalid_message_is_a_tool_error(service: str) -> None:
    result = await call_chat(service, {"message": ""})
    assert result.is_error
    assert text_of(result).startswith("validation_error: message:")


def test_without_a_key_every_mcp_request_is_401(service: str) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    refused = httpx.post(f"{service}/mcp", json=initialize, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    assert refused.headers["www-authenticate"] == "Bearer"
    wrong = httpx.post(f"{service}/mcp", json=initialize, headers={**headers, "X-API-Key": "nope"})
    assert wrong.status_code == 401
    accepted = httpx.post(f"{service}/mcp", json=initialize, headers={**headers, "X-API-Key": KEY})
    assert accepted.status_code == 200
    server_info = accepted.json()["result"]["serverInfo"]
    assert server_info["name"] == "my-agent"


async def test_the_sdk_client_is_refused_without_a_key(service: str) -> None:
    with pytest.raises(Exception) as caught:  # noqa: PT011 (the SDK's error type for HTTP 401 varies)
        async with mcp_client(service, key=None) as client:
            await client.list_tools()
    assert not isinstance(caught.value, AssertionError)


async def test_the_rate_limit_counts_chat_calls() -> None:
    with serving(
        make_settings(api_keys=KEY, mcp_server_enabled=True, rate_limit_per_minute=1)
    ) as url:
        async with mcp_client(url) as client:
            assert (await client.list_tools()).tools
            first = await client.call_tool("chat", {"message": "hello"})
            assert not first.is_error
            second = await client.call_tool("chat", {"message": "hello"})
    assert second.is_error
    assert text_of(second).startswith("rate_limited:")


async def test_the_token_budget_applies() -> None:
    with serving(
        make_settings(api_keys=KEY, mcp_server_enabled=True, token_budget_daily=10)
    ) as url:
        first = await call_chat(url, {"message": "hello " * 40})
        assert not first.is_error
        spent = await call_chat(url, {"message": "hello"})
    assert spent.is_error
    assert text_of(spent).startswith("budget_exceeded:")


def test_the_openapi_document_describes_mcp_only_when_enabled(
    client_factory: ClientFactory,
) -> None:
    on = client_factory(make_settings(mcp_server_enabled=True)).get("/openapi.json").json()
    assert on["paths"]["/mcp"]["post"]["operationId"] == "mcp"
    assert "/v1/chat" in on["paths"]
    off = client_factory(make_settings()).get("/openapi.json").json()
    assert "/mcp" not in off["paths"]


def test_mcp_is_off_unless_enabled() -> None:
    with serving(make_settings()) as url:
        response = httpx.post(f"{url}/mcp", json={})
    assert response.status_code == 404


async def test_mcp_error_type_is_the_sdk_error() -> None:
    # A method the server does not serve is a JSON-RPC error, raised as MCPError.
    with serving(make_settings(mcp_server_enabled=True)) as url:
        async with mcp_client(url, key=None) as client:
            with pytest.raises(MCPError):
                await client.get_prompt("absent")
