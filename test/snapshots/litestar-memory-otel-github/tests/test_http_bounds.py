"""The HTTP server's connection bounds, over real sockets against the real server.

The runner's own uvicorn configuration serves the app on a loopback port, and
raw connections attack it: oversized and slow request heads, silent and idle
connections, a body that never ends, malformed HTTP, too many connections and
a spoofed ``X-Forwarded-For``.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from lite_agent_with_the_longest_allowed_name.config import load_settings
from lite_agent_with_the_longest_allowed_name.http_bounds import LingeringTransport
from lite_agent_with_the_longest_allowed_name.runner import uvicorn_config

BOUNDS_ENV = {
    "ENVIRONMENT": "test",
    "LOG_LEVEL": "warning",
    "MAX_HEADER_BYTES": "4096",
    "HEADER_READ_TIMEOUT": "0.6",
    "KEEPALIVE_TIMEOUT": "1",
    "BODY_READ_TIMEOUT": "0.6",
    "MAX_CONNECTIONS": "8",
}


class Served:
    def __init__(self, port: int) -> None:
        self.port = port

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


async def serve(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOST", "127.0.0.1")
    config = uvicorn_config(load_settings())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started
    try:
        yield Served(sock.getsockname()[1])
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@pytest.fixture
async def bounded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Served]:
    monkeypatch.chdir(tmp_path)  # no .env file
    async for served in serve(BOUNDS_ENV, monkeypatch):
        yield served


async def read_response(
    reader: asyncio.StreamReader, within: float = 5
) -> tuple[int, dict[str, str], bytes]:
    """One response, within ``within`` seconds: status, headers (lower-cased), body."""
    async with asyncio.timeout(within):
        return await _read_response(reader)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


def error_code(headers: dict[str, str], body: bytes) -> str:
    assert headers["content-type"].startswith("application/json")
    assert headers["x-request-id"]
    error: dict[str, Any] = json.loads(body)["error"]
    assert len(error["trace_id"]) == 32
    return str(error["code"])


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """True when the server closes the connection within ``seconds`` (reads to EOF)."""
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


async def test_a_head_within_the_limit_is_served(bounded: Served) -> None:
    reader, writer = await bounded.open()
    writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"a" * 3000 + b"\r\n\r\n")
    status, _, _ = await read_response(reader)
    assert status == 200
    writer.close()


async def test_a_head_over_max_header_bytes_gets_431_and_is_closed(bounded: Served) -> None:
    reader, writer = await bounded.open()
    writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"a" * 5000 + b"\r\n\r\n")
    status, headers, body = await read_response(reader)
    assert status == 431
    assert error_code(headers, body) == "request_header_too_large"
    assert await closed_within(reader, 2)


async def test_an_endless_header_is_cut_off_near_the_limit(bounded: Served) -> None:
    reader, writer = await bounded.open()
    writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Bomb: ")
    sent = 0
    status = 0
    try:
        for _ in range(400):  # up to 16 MB, 40 KiB at a time, until the server hangs up
            writer.write(b"b" * 40960)
            await writer.drain()
            sent += 40960
            await asyncio.sleep(0.001)
            if reader.at_eof():
                break
        status, _, _ = await read_response(reader)
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    assert status in (0, 431)
    assert sent < 4 * 1024 * 1024, f"the server read {sent} header bytes"
    assert await closed_within(reader, 2)


async def test_a_silent_connection_is_closed_after_header_read_timeout(bounded: Served) -> None:
    reader, writer = await bounded.open()
    assert await closed_within(reader, 3)
    writer.close()


async def test_a_slow_head_gets_408_after_header_read_timeout(bounded: Served) -> None:
    reader, writer = await bounded.open()
    writer.write(b"GET /health HTTP/1.1\r\n")

    async def trickle() -> None:
        for i in range(20):
            writer.write(f"X-Slow-{i}: 1\r\n".encode())
            await asyncio.sleep(0.2)

    trickling = asyncio.create_task(trickle())
    try:
        status, headers, body = await read_response(reader, within=3)
    finally:
        trickling.cancel()
    assert status == 408
    assert error_code(headers, body) == "request_timeout"
    assert await closed_within(reader, 2)


async def test_an_idle_keep_alive_connection_is_closed(bounded: Served) -> None:
    reader, writer = await bounded.open()
    writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, _ = await read_response(reader)
    assert status == 200
    assert await closed_within(reader, 3)  # KEEPALIVE_TIMEOUT=1


async def test_a_body_that_never_ends_gets_408(bounded: Served) -> None:
    reader, writer = await bounded.open()
    writer.write(
        b"POST /v1/chat HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n"
    )

    async def trickle() -> None:
        while True:
            writer.write(b"1\r\n \r\n")
            await asyncio.sleep(0.1)

    trickling = asyncio.create_task(trickle())
    try:
        status, headers, body = await read_response(reader, within=3)
    finally:
        trickling.cancel()
    assert status == 408
    assert headers.get("connection") == "close"
    assert error_code(headers, body) == "request_timeout"
    assert await closed_within(reader, 4)


@pytest.mark.parametrize(
    "head",
    [
        b"POST /v1/chat HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
        b"POST /v1/chat HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n",
    ],
    ids=["negative-content-length", "content-length-and-chunked", "space-in-header-name"],
)
async def test_malformed_http_gets_the_json_400(bounded: Served, head: bytes) -> None:
    reader, writer = await bounded.open()
    writer.write(head)
    status, headers, body = await read_response(reader)
    assert status == 400
    assert error_code(headers, body) == "bad_request"
    assert await closed_within(reader, 2)


async def test_connections_past_max_connections_are_closed_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    async for served in serve({**BOUNDS_ENV, "HEADER_READ_TIMEOUT": "30"}, monkeypatch):
        held = [await served.open() for _ in range(8)]
        reader, writer = await served.open()
        assert await closed_within(reader, 3)  # long before HEADER_READ_TIMEOUT
        for _, w in held:
            w.close()
        await asyncio.sleep(0.2)
        reader, writer = await served.open()
        writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        status, _, _ = await read_response(reader)
        assert status == 200
        writer.close()


async def chat_statuses(served: Served, count: int) -> list[int]:
    statuses = []
    for i in range(count):
        reader, writer = await served.open()
        body = b'{"message": "hello"}'
        writer.write(
            b"POST /v1/chat HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            + f"X-Forwarded-For: 203.0.113.{i + 1}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        statuses.append((await read_response(reader))[0])
        writer.close()
    return statuses


async def test_a_spoofed_forwarded_for_does_not_bypass_the_rate_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    async for served in serve({"ENVIRONMENT": "test", "RATE_LIMIT_PER_MINUTE": "2"}, monkeypatch):
        assert await chat_statuses(served, 4) == [200, 200, 429, 429]


async def test_forwarded_for_is_believed_from_a_configured_proxy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"ENVIRONMENT": "test", "RATE_LIMIT_PER_MINUTE": "2", "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    async for served in serve(env, monkeypatch):
        # Each forwarded client address has its own allowance.
        assert await chat_statuses(served, 4) == [200, 200, 200, 200]


async def test_a_body_refused_midway_is_answered_then_closed(bounded: Served) -> None:
    # 413 while the client is still sending fast: the answer must survive the close
    # (no reset while its input is unread) and the connection must not stay usable.
    reader, writer = await bounded.open()
    writer.write(
        b"POST /v1/chat HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"10000\r\n" + b"a" * 65536 + b"\r\n"
    for _ in range(32):  # 2 MiB, over MAX_BODY_BYTES
        writer.write(chunk)
    status, headers, body = await read_response(reader)
    assert status == 413
    assert headers.get("connection") == "close"
    assert error_code(headers, body) == "payload_too_large"
    assert await closed_within(reader, 4)


async def test_an_answer_before_the_body_ends_closes_the_connection(bounded: Served) -> None:
    reader, writer = await bounded.open()
    writer.write(
        b"POST /no-such-route HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n"
    )

    async def trickle() -> None:
        while True:
            writer.write(b"1\r\n \r\n")
            await asyncio.sleep(0.05)

    trickling = asyncio.create_task(trickle())
    try:
        status, headers, body = await read_response(reader)
        assert status == 404  # answered without reading the body
        assert headers.get("connection") == "close"
        assert error_code(headers, body) == "not_found"
        assert await closed_within(reader, 4)  # not held open by the body that goes on
    finally:
        trickling.cancel()


class _RecordingTransport:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []

    def write(self, data: bytes) -> None:
        self.calls.append(("write", data))

    def write_eof(self) -> None:
        self.calls.append(("eof", b""))

    def close(self) -> None:
        self.calls.append(("close", b""))

    def is_closing(self) -> bool:
        return False


class _Protocol:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()

    def _body_unfinished(self) -> bool:
        return False


async def test_the_writes_of_one_loop_iteration_go_out_as_one() -> None:
    raw = _RecordingTransport()
    transport = LingeringTransport(raw, _Protocol())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(b"body")
    assert raw.calls == []
    await asyncio.sleep(0)
    assert raw.calls == [("write", b"HTTP/1.1 200 OK\r\n\r\nbody")]
    transport.write(b"next")
    await asyncio.sleep(0)
    transport.write(b"held")
    transport.write_eof()
    transport.write(b"last")
    transport.close()
    assert raw.calls[1:] == [
        ("write", b"next"),
        ("write", b"held"),
        ("eof", b""),
        ("write", b"last"),
        ("close", b""),
    ]
    await asyncio.sleep(0)
    assert len(raw.calls) == 6
