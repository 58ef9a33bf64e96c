"""The contract's endpoints, as Litestar route handlers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Litestar, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath
from litestar.response import Stream
from litestar.types import ControllerRouterHandler

from .. import __version__, lifecycle
from ..agent.schemas import ChatRequest, ChatResponse
from ..context import current_trace_id
from ..web.admission import admit
from ..web.endpoints import open_stream, read_session, readiness
from ..web.errors import CHAT_ERROR_STATUSES
from ..web.schemas import ErrorResponse, HealthResponse, ReadyResponse, SessionHistory
from ..web.services import Services

ChatBody = Annotated[ChatRequest, Body(media_type=RequestEncodingType.JSON)]

ERROR_RESPONSES: dict[int, ResponseSpec] = {
    status: ResponseSpec(data_container=ErrorResponse, description="the contract's error shape")
    for status in CHAT_ERROR_STATUSES
}


def get_services(app: Litestar) -> Services:
    services: Services = app.state.services
    return services


async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """``admit()`` as a Litestar guard: the drain, the API key, the rate limit.

    The caller it admitted is ``connection.state.caller`` (whose runs it may see)."""
    connection.state.caller = await admit(
        get_services(connection.app),
        client_host=connection.client.host if connection.client else None,
        authorization=connection.headers.get("authorization"),
        x_api_key=connection.headers.get("x-api-key"),
    )


@get("/health", tags=["ops"], sync_to_thread=False)
def health() -> HealthResponse:
    return HealthResponse(
        status="ok", version=__version__, uptime_seconds=lifecycle.state.uptime_seconds()
    )


@get(
    "/ready",
    tags=["ops"],
    responses={503: ResponseSpec(data_container=ReadyResponse, description="not ready")},
)
async def ready(request: Request[Any, Any, Any]) -> Response[ReadyResponse]:
    status, checks = await readiness(getattr(request.app.state, "services", None))
    return Response(
        ReadyResponse(status=status, checks=checks),
        status_code=200 if status == "ready" else 503,
    )


@post(
    "/v1/chat",
    status_code=200,
    guards=[guard],
    responses=ERROR_RESPONSES,
    tags=["agent"],
)
async def chat(data: ChatBody, request: Request[Any, Any, Any]) -> ChatResponse:
    services = get_services(request.app)
    return await services.agent.run(data, trace_id=current_trace_id() or "")


@post(
    "/v1/chat/stream",
    status_code=200,
    guards=[guard],
    responses=ERROR_RESPONSES,
    tags=["agent"],
    media_type="text/event-stream",
    description="Server-sent events: token, tool, then exactly one done or error.",
    response_description="events: token, tool, then done or error",
)
async def chat_stream(data: ChatBody, request: Request[Any, Any, Any]) -> Stream:
    events = await open_stream(get_services(request.app), data, trace_id=current_trace_id() or "")
    return Stream(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@get(
    "/v1/sessions/{session_id:str}",
    guards=[guard],
    responses={
        404: ResponseSpec(data_container=ErrorResponse, description="no such session"),
        **ERROR_RESPONSES,
    },
    tags=["agent"],
    description="A session's kept history (user messages and answers), oldest first.",
)
async def session_history(
    session_id: FromPath[str], request: Request[Any, Any, Any]
) -> SessionHistory:
    return await read_session(get_services(request.app), session_id)


ROUTES: list[ControllerRouterHandler] = [health, ready, chat, chat_stream, session_history]
