"""MCP servers as the agent's tools, on the official ``mcp`` SDK's client.

One ``McpServerConnection`` per configured server holds an SDK ``Client`` in a
background task of its own (the SDK's transports are anyio task groups, which
must be entered and left by the same task). Once connected, the server's
allowed tools join the agent's ``ToolRegistry`` as ``<server>__<tool>``; while
it is down they are absent, and the task reconnects with backoff. Every
failure of a call (refused, timed out, too large, server gone) becomes a tool
error the model reads, never an exception for the turn.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any, Literal

import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT, CallToolResult, ContentBlock
from mcp.types import Tool as McpTool

from .mcp_config import McpServerConfig, exposed_name
from .tools import RemoteTool, ToolError, ToolRegistry

logger = logging.getLogger(__name__)

ServerState = Literal["connecting", "ok", "error"]

MAX_RECONNECT_DELAY = 60.0
MAX_ERROR_MESSAGE_CHARS = 300
MAX_LISTED_TOOLS = 256


def _backoff(attempt: int) -> float:
    ceiling = min(MAX_RECONNECT_DELAY, 1.0 * (2**attempt))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not crypto)


def _summarise(block: ContentBlock) -> str:
    """Text as is; other content types as one line saying what they were."""
    if block.type == "text":
        return block.text
    if block.type in ("image", "audio"):
        return f"[{block.type} content, {block.mime_type}, {len(block.data)} base64 characters]"
    if block.type == "resource_link":
        return f"[resource link {block.uri}]"
    if block.type == "resource":
        text = getattr(block.resource, "text", None)
        if isinstance(text, str):
            return text
        return f"[binary resource {block.resource.uri}]"
    return f"[{block.type} content]"


def result_text(result: CallToolResult) -> str:
    parts = [_summarise(block) for block in result.content]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, separators=(",", ":"), default=str))
    return "\n".join(parts)


def cut_to_bytes(text: str, limit: int) -> tuple[str, bool]:
    """``text`` within ``limit`` UTF-8 bytes (never splitting a character), and whether it was cut."""
    data = text.encode()
    if len(data) <= limit:
        return text, False
    return data[:limit].decode(errors="ignore"), True


def _short(message: str) -> str:
    return (
        message
        if len(message) <= MAX_ERROR_MESSAGE_CHARS
        else message[:MAX_ERROR_MESSAGE_CHARS] + "..."
    )


class McpServerConnection:
    """One configured server: its connection task, its state, its tools in the registry."""

    def __init__(
        self,
        config: McpServerConfig,
        registry: ToolRegistry,
        environ: Mapping[str, str],
    ) -> None:
        self.config = config
        self.name = config.name
        self.state: ServerState = "connecting"
        self._registry = registry
        self._environ = environ
        self._client: Client | None = None
        self._registered: list[str] = []
        self._broken = asyncio.Event()
        self._stopping = asyncio.Event()
        self._first_attempt = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- the connection task ---------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"mcp:{self.name}")

    async def wait_first_attempt(self) -> None:
        await self._first_attempt.wait()

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def _transport(self, stack: AsyncExitStack) -> Any:
        config = self.config
        if config.transport == "stdio":
            params = StdioServerParameters(command=config.command, args=list(config.args))
            # The server's stderr goes to this process's file descriptor 2 (sys.stderr
            # may have been replaced by an object without one, as under pytest).
            return stdio_client(params, errlog=sys.__stderr__ or sys.stderr)
        http_client = httpx2.AsyncClient(
            headers=config.resolve_headers(self._environ),
            timeout=httpx2.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds),
        )
        stack.push_async_callback(http_client.aclose)
        return streamable_http_client(config.url, http_client=http_client)

    async def _connect(self, stack: AsyncExitStack) -> tuple[Client, list[McpTool]]:
        client = Client(
            self._transport(stack),
            read_timeout_seconds=self.config.connect_timeout_seconds,
            cache=None,
        )
        async with asyncio.timeout(self.config.connect_timeout_seconds):
            await stack.enter_async_context(client)
            listed: list[McpTool] = []
            cursor: str | None = None
            while len(listed) < MAX_LISTED_TOOLS:
                page = await client.list_tools(cursor=cursor)
                listed.extend(page.tools)
                cursor = page.next_cursor
                if not cursor:
                    break
        return client, listed[:MAX_LISTED_TOOLS]

    def _register(self, listed: list[McpTool]) -> None:
        allowed = set(self.config.tools) if self.config.tools is not None else None
        for tool in listed:
            if allowed is not None and tool.name not in allowed:
                continue
            name = exposed_name(self.name, tool.name)
            if name is None:
                logger.warning(
                    "MCP tool skipped: its name does not fit the providers' tool-name rule",
                    extra={"mcp_server": self.name},
                )
                continue
            self._registry.register(
                RemoteTool(
                    name=name,
                    description=_short(tool.description or tool.title or tool.name),
                    parameters=tool.input_schema,
                    func=self._caller(tool.name),
                    server=self.name,
                )
            )
            self._registered.append(name)
        missing = sorted((allowed or set()) - {tool.name for tool in listed})
        if missing:
            logger.warning(
                "MCP server does not list every allowed tool",
                extra={"mcp_server": self.name, "missing_tools": missing},
            )

    def _unregister(self) -> None:
        for name in self._registered:
            self._registry.unregister(name)
        self._registered.clear()

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            connected = False
            try:
                # A transport failing in the background (the server went away) cancels
                # the wait below and leaves this block with its error.
                async with AsyncExitStack() as stack:
                    client, listed = await self._connect(stack)
                    connected = True
                    self._client = client
                    self._register(listed)
                    self.state = "ok"
                    attempt = 0
                    logger.info(
                        "MCP server connected",
                        extra={"mcp_server": self.name, "tools": list(self._registered)},
                    )
                    self._first_attempt.set()
                    await self._wait_for(self._broken, None)
            except Exception as exc:
                error_type = type(exc).__name__
            else:
                error_type = "connection lost"
            finally:
                self._unregister()
                self._client = None
                self._broken.clear()
                self._first_attempt.set()
            if self._stopping.is_set():
                break
            # One warning when the server becomes unavailable; the retries are quiet.
            log = logger.warning if connected or self.state != "error" else logger.debug
            self.state = "error"
            log(
                "MCP server unavailable, its tools are absent; retrying in the background",
                extra={"mcp_server": self.name, "error_type": error_type},
            )
            await self._wait_for(self._stopping, _backoff(attempt))
            attempt += 1

    async def _wait_for(self, event: asyncio.Event, seconds: float | None) -> None:
        """Until ``event`` or the stop (or ``seconds``, when given)."""
        waiters = {
            asyncio.ensure_future(event.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        }
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    # -- calls -----------------------------------------------------------------
    def _caller(self, tool: str) -> Any:
        async def call(**arguments: Any) -> str:
            return await self.call(tool, arguments)

        return call

    async def call(self, tool: str, arguments: dict[str, Any]) -> str:
        client = self._client
        config = self.config
        if client is None:
            raise ToolError(f"error: MCP server {self.name!r} is unavailable")
        try:
            result = await client.call_tool(
                tool, arguments, read_timeout_seconds=config.timeout_seconds
            )
        except MCPError as exc:
            if exc.error.code == CONNECTION_CLOSED:
                self._broken.set()
                raise ToolError(f"error: MCP server {self.name!r} could not be reached") from None
            if exc.error.code == REQUEST_TIMEOUT:
                raise ToolError(
                    f"error: MCP server {self.name!r} did not answer within"
                    f" {config.timeout_seconds:g} s"
                ) from None
            raise ToolError(
                f"error: MCP server {self.name!r} refused the call: {_short(exc.error.message)}"
            ) from None
        except Exception as exc:
            # The transport failed (server gone, connection reset): reconnect.
            self._broken.set()
            raise ToolError(
                f"error: MCP server {self.name!r} could not be reached ({type(exc).__name__})"
            ) from None
        text, cut = cut_to_bytes(result_text(result), config.max_result_bytes)
        if result.is_error:
            raise ToolError(f"error: the tool failed: {_short(text)}")
        if cut:
            raise ToolError(
                f"error: the result was larger than {config.max_result_bytes} bytes and was cut;"
                f" its first part follows\n{text}"
            )
        return text


class McpTools:
    """Every configured server's connection, for one worker process."""

    def __init__(
        self,
        servers: tuple[McpServerConfig, ...],
        registry: ToolRegistry,
        environ: Mapping[str, str],
    ) -> None:
        self.connections = [McpServerConnection(config, registry, environ) for config in servers]

    async def start(self) -> None:
        """Start every connection; wait for each first attempt (bounded by its connect timeout)."""
        for connection in self.connections:
            connection.start()
        await asyncio.gather(*(connection.wait_first_attempt() for connection in self.connections))

    async def stop(self) -> None:
        await asyncio.gather(*(connection.stop() for connection in self.connections))

    def checks(self) -> dict[str, tuple[str, bool]]:
        """``mcp:<name>`` -> (state, required) for /ready."""
        return {
            f"mcp:{connection.name}": (connection.state, connection.config.required)
            for connection in self.connections
        }
