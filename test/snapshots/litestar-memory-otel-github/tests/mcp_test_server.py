"""A real MCP server for the tests, built with the ``mcp`` SDK.

``python tests/mcp_test_server.py stdio`` serves it over stdin/stdout;
``python tests/mcp_test_server.py http PORT [TOKEN]`` over Streamable HTTP on
127.0.0.1:PORT/mcp, refusing (401) any request whose ``Authorization`` is not
``Bearer TOKEN`` when TOKEN is given.
"""

from __future__ import annotations

import asyncio
import base64
import sys
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ImageContent, TextContent

server: MCPServer[Any] = MCPServer("test-tools")


@server.tool()
def echo(text: str) -> str:
    """Say ``text`` back."""
    return f"echo: {text}"


@server.tool()
async def slow(seconds: float) -> str:
    """Answer after ``seconds``."""
    await asyncio.sleep(seconds)
    return "finally"


@server.tool()
def big(size: int) -> str:
    """``size`` characters."""
    return "x" * size


@server.tool()
def secret() -> str:
    """A tool the allowlists of the tests leave out."""
    return "the secret"


@server.tool()
def fail() -> str:
    """Always fails (a ToolError: the SDK reports its message, without logging a traceback)."""
    raise ToolError("this tool always fails")


@server.tool()
def picture() -> list[TextContent | ImageContent]:
    """A caption and an image."""
    pixel = base64.b64encode(b"\x89PNG fake").decode()
    return [
        TextContent(type="text", text="a caption"),
        ImageContent(type="image", data=pixel, mime_type="image/png"),
    ]


@server.tool()
def whoami(ctx: Context) -> str:
    """The Authorization header this request came with (HTTP only)."""
    request = ctx.request_context.request
    headers = getattr(request, "headers", None)
    return f"authorization={headers.get('authorization') if headers is not None else None}"


def serve_http(port: int, token: str | None) -> None:
    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    app = server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and token is not None:
            headers = dict(scope.get("headers") or ())
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
        await app(scope, receive, send)

    uvicorn.run(guarded, host="127.0.0.1", port=port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        serve_http(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
