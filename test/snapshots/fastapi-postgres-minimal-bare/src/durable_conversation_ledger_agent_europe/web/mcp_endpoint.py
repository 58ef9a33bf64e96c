"""The service as an MCP server: ``/mcp`` (Streamable HTTP), one tool, ``chat``.

On the official ``mcp`` SDK's ``MCPServer``, stateless with JSON responses:
every request stands alone, so any worker of any replica can answer it (no
session affinity, nothing to lose at a restart). ``McpRouter`` sends ``/mcp``
to it from the core's ASGI stack, once for every framework, and runs the
SDK's session manager for as long as the app's lifespan. Every request to
``/mcp`` needs an API key like ``/v1/chat``; a ``chat`` call goes through the
same admission (drain, key, rate limit) and the agent's token budget.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field, ValidationError

from .. import __version__, lifecycle
from ..agent.schemas import ChatRequest
from ..config import Settings
from ..context import current_trace_id
from ..middleware import ASGIApp, Receive, Scope, Send
from ..middleware.errors import send_error
from .admission import admit
from .errors import AgentError, ShuttingDown
from .security import authenticate
from .services import current_services

MCP_PATH = "/mcp"
CHAT_DESCRIPTION = (
    "Ask this agent. Pass the same session_id again to continue a conversation; "
    "the answer comes back with its session_id and trace_id."
)


# /mcp in the OpenAPI document (each framework adds it: the route is the core's, not theirs).
MCP_OPENAPI_PATH_ITEM: dict[str, Any] = {
    "post": {
        "tags": ["mcp"],
        "summary": "This agent as an MCP server (Streamable HTTP)",
        "description": (
            "Model Context Protocol JSON-RPC messages (initialize, tools/list, tools/call) over"
            " Streamable HTTP, stateless, JSON responses; send Accept: application/json,"
            " text/event-stream. One tool, chat: {message, session_id?} -> {answer, session_id,"
            " trace_id}. Needs an API key like /v1/chat; each chat call is admitted like a"
            " /v1/chat request. Use an MCP client rather than hand-written requests."
        ),
        "operationId": "mcp",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "description": "a JSON-RPC 2.0 message"}
                }
            },
        },
        "responses": {
            "200": {
                "description": "the JSON-RPC response",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "202": {"description": "a notification, accepted"},
            "401": {"description": "missing or invalid API key (the contract's error shape)"},
        },
    }
}


def openapi_paths(settings: Settings) -> dict[str, Any]:
    """The paths the core serves outside the framework, for its OpenAPI document."""
    return {MCP_PATH: MCP_OPENAPI_PATH_ITEM} if settings.mcp_server_enabled else {}


class ChatAnswer(BaseModel):
    answer: str = Field(description="the agent's answer")
    session_id: str = Field(description="pass it again to continue this conversation")
    trace_id: str = Field(description="the trace of this turn, for support and logs")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _refusal(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


async def chat(
    message: str, ctx: Context, session_id: str | None = None
) -> Annotated[CallToolResult, ChatAnswer]:
    """The ``chat`` tool: one turn of the agent, admitted like ``POST /v1/chat``.

    A refusal is a tool error whose text starts with the contract's error code
    (``rate_limited: ...``), so a client can branch on it.
    """
    services = current_services()
    request = ctx.request_context.request
    if services is None or request is None:
        return _refusal("shutting_down: the service is not running")
    try:
        await admit(
            services,
            client_host=request.client.host if request.client else None,
            authorization=request.headers.get("authorization"),
            x_api_key=request.headers.get("x-api-key"),
        )
        body = ChatRequest(message=message, session_id=session_id)
        response = await services.agent.run(body, trace_id=current_trace_id() or "")
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first.get("loc", ()))
        return _refusal(f"validation_error: {field}: {first.get('msg')}")
    except AgentError as exc:
        return _refusal(f"{exc.code}: {exc.message}")
    answer = ChatAnswer(
        answer=response.answer, session_id=response.session_id, trace_id=response.trace_id
    )
    return CallToolResult(
        content=[TextContent(type="text", text=answer.model_dump_json())],
        structured_content=answer.model_dump(mode="json"),
    )


def create_mcp_server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer(
        name="durable-conversation-ledger-agent-europe",
        version=__version__,
        instructions=CHAT_DESCRIPTION,
    )
    server.add_tool(chat, name="chat", description=CHAT_DESCRIPTION)
    return server


class McpRouter:
    """``/mcp`` to the SDK's Streamable HTTP app, everything else to ``app``.

    The SDK's DNS-rebinding guard (Host/Origin allow-lists) is off: it is meant
    for unauthenticated servers on localhost, while this endpoint sits behind
    the service's API keys and is reached under whatever host name the
    deployment gives it.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.server = create_mcp_server()
        self.mcp_app = self.server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            json_response=True,
            max_request_body_size=settings.max_body_bytes,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # The session manager runs for the whole lifespan, around the app's own.
            async with self.server.session_manager.run():
                await self.app(scope, receive, send)
            return
        if scope["type"] != "http" or scope["path"] != MCP_PATH:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["route_template"] = MCP_PATH
        try:
            self._refuse_early(scope)
        except AgentError as exc:
            await send_error(send, exc)
            return
        await self.mcp_app(scope, receive, send)

    def _refuse_early(self, scope: Scope) -> None:
        """The drain and the API key, on every MCP request (the rate limit counts ``chat`` calls)."""
        if lifecycle.state.draining:
            raise ShuttingDown()
        if self.settings.auth_enabled:
            authenticate(
                _header(scope, b"authorization"),
                _header(scope, b"x-api-key"),
                self.settings.api_keys,
            )
