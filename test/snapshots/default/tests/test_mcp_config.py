"""MCP_SERVERS_FILE: validated at start; the service with MCP servers up and down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from my_agent.agent.mcp_config import (
    McpConfigError,
    McpServerConfig,
    exposed_name,
    load_servers,
)
from my_agent.agent.mcp_tools import cut_to_bytes
from my_agent.agent.tools import ToolRegistry
from my_agent.config import load_settings

from conftest import ClientFactory, make_settings
from mcp_fixtures import free_port, http_entry, stdio_entry

# --- the service: start, /ready -----------------------------------------------------------


def write_servers(tmp_path: Path, *entries: dict[str, Any]) -> str:
    path = tmp_path / "mcp-servers.json"
    path.write_text(json.dumps({"servers": list(entries)}), encoding="utf-8")
    return str(path)


def test_a_server_down_at_start_leaves_the_service_up_and_ready_says_so(
    client_factory: ClientFactory, tmp_path: Path
) -> None:
    down = {
        "name": "down",
        "transport": "streamable_http",
        "url": f"http://127.0.0.1:{free_port()}/mcp",
        "connect_timeout_seconds": 0.5,
    }
    client = client_factory(make_settings(mcp_servers_file=write_servers(tmp_path, down)))
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"session_store": "ok", "mcp:down": "error"},
    }
    chat = client.post("/v1/chat", json={"message": "use tool down__echo {}"})
    assert chat.status_code == 200
    assert chat.json()["answer"] == "The tool down__echo is not available."


def test_a_required_server_down_makes_the_service_not_ready(
    client_factory: ClientFactory, tmp_path: Path
) -> None:
    down = {
        "name": "down",
        "transport": "streamable_http",
        "url": f"http://127.0.0.1:{free_port()}/mcp",
        "connect_timeout_seconds": 0.5,
        "required": True,
    }
    client = client_factory(make_settings(mcp_servers_file=write_servers(tmp_path, down)))
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["mcp:down"] == "error"


def test_the_service_calls_a_configured_server(
    client_factory: ClientFactory, tmp_path: Path
) -> None:
    path = write_servers(tmp_path, stdio_entry(required=True))
    client = client_factory(make_settings(mcp_servers_file=path), tools=ToolRegistry())
    assert client.get("/ready").json()["checks"] == {"session_store": "ok", "mcp:local": "ok"}
    chat = client.post("/v1/chat", json={"message": 'use tool local__echo {"text": "via the API"}'})
    assert chat.status_code == 200, chat.text
    assert chat.json()["answer"] == "The answer is echo: via the API."
    assert chat.json()["tool_calls"] == [{"name": "local__echo", "status": "ok"}]


# --- the servers file ------------------------------------------------------------------------


def load(
    tmp_path: Path,
    content: Any,
    *,
    production: bool = False,
    allow_stdio: bool = False,
    environ: dict[str, str] | None = None,
) -> tuple[McpServerConfig, ...]:
    path = tmp_path / "servers.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return load_servers(str(path), environ or {}, production=production, allow_stdio=allow_stdio)


def test_a_valid_file_loads(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        {"servers": [stdio_entry(), http_entry("https://tools.example/mcp")]},
        environ={"TEST_MCP_TOKEN": "x"},
    )
    assert [server.name for server in loaded] == ["local", "remote"]
    assert loaded[1].resolve_headers({"TEST_MCP_TOKEN": "x"}) == {"Authorization": "Bearer x"}
    assert loaded[0].timeout_seconds == 10
    assert loaded[0].tools is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        ({"servers": {}}, 'must be an object {"servers": [...]}'),
        ({"servers": [], "extra": 1}, "unknown key 'extra'"),
        ({"servers": [{"name": "a", "transport": "streamable_http"}]}, "server 'a': url: required"),
        ({"servers": [{"name": "a", "transport": "stdio"}]}, "server 'a': command: required"),
        (
            {"servers": [{"name": "a", "transport": "stdio", "command": "x", "url": "http://h"}]},
            "url/headers: only",
        ),
        (
            {
                "servers": [
                    {"name": "a", "transport": "streamable_http", "url": "http://h", "command": "x"}
                ]
            },
            "command/args: only",
        ),
        (
            {"servers": [{"name": "a_b", "transport": "stdio", "command": "x"}]},
            "server 'a_b': name:",
        ),
        (
            {"servers": [{"name": "a", "transport": "sse", "command": "x"}]},
            "server 'a': transport:",
        ),
        (
            {
                "servers": [
                    {"name": "a", "transport": "stdio", "command": "x", "timeout_seconds": 0}
                ]
            },
            "timeout_seconds:",
        ),
        (
            {"servers": [{"name": "a", "transport": "stdio", "command": "x", "colour": 1}]},
            "colour:",
        ),
        ({"servers": [stdio_entry(), stdio_entry()]}, "server 'local': the name is used twice"),
        ({"servers": ["x"]}, "servers[0]:"),
        (
            {"servers": [http_entry("http://h")]},
            "server 'remote': header value variable TEST_MCP_TOKEN is not set",
        ),
        (
            {"servers": [http_entry("http://h", headers={"Bad Header": {"env": "X"}})]},
            "'Bad Header' is not a valid header name",
        ),
    ],
)
def test_an_invalid_file_names_the_server_and_the_problem(
    tmp_path: Path, content: Any, problem: str
) -> None:
    with pytest.raises(McpConfigError) as caught:
        load(tmp_path, content)
    assert str(caught.value).startswith(str(tmp_path / "servers.json") + ": ")
    assert problem in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(McpConfigError, match="cannot be read"):
        load_servers(str(tmp_path / "absent.json"), {}, production=False, allow_stdio=False)


def test_stdio_is_refused_in_production_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(
        McpConfigError, match="stdio servers are refused when ENVIRONMENT=production"
    ):
        load(tmp_path, {"servers": [stdio_entry()]}, production=True)
    assert load(tmp_path, {"servers": [stdio_entry()]}, production=True, allow_stdio=True)


def test_a_bad_file_stops_the_start_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "MCP_SERVERS_FILE", write_servers(tmp_path, {"name": "a", "transport": "stdio"})
    )
    with pytest.raises(SystemExit) as exited:
        load_settings()
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("invalid configuration: MCP_SERVERS_FILE: ")
    assert "server 'a': command: required" in err[0]


def test_exposed_names_follow_the_providers_rule() -> None:
    assert exposed_name("docs", "search") == "docs__search"
    assert exposed_name("docs", "has.dot") is None
    assert exposed_name("docs", "x" * 70) is None


def test_cut_to_bytes_never_splits_a_character() -> None:
    assert cut_to_bytes("héllo", 100) == ("héllo", False)
    assert cut_to_bytes("héllo", 2) == ("h", True)
