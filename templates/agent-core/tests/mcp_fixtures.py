"""Helpers of the MCP tests: the SDK-built test server (mcp_test_server.py) started
over stdio or Streamable HTTP, and servers-file entries pointing at it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SERVER_SCRIPT = str(Path(__file__).with_name("mcp_test_server.py"))
TOKEN = "s3cret-token"
TOKEN_ENV = "TEST_MCP_TOKEN"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the MCP test server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the MCP test server did not start")


def start_http_server(port: int, token: str | None = TOKEN) -> subprocess.Popen[bytes]:
    """The test server on 127.0.0.1:``port``/mcp (not waited for)."""
    args = [sys.executable, SERVER_SCRIPT, "http", str(port)]
    return subprocess.Popen([*args, token] if token else args)  # noqa: S603 (our own test server)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def http_server(token: str | None = TOKEN) -> Iterator[str]:
    """The test server over Streamable HTTP, up; yields its URL."""
    port = free_port()
    process = start_http_server(port, token)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(process)


def stdio_entry(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "local",
        "transport": "stdio",
        "command": sys.executable,
        "args": [SERVER_SCRIPT, "stdio"],
        # Starting a Python process that imports the SDK takes seconds on a busy machine.
        "connect_timeout_seconds": 30,
        **overrides,
    }


def http_entry(url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "remote",
        "transport": "streamable_http",
        "url": url,
        "headers": {"Authorization": {"env": TOKEN_ENV, "prefix": "Bearer "}},
        **overrides,
    }
