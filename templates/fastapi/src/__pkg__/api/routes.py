"""The contract's endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from .. import __version__, lifecycle
from ..agent.schemas import ChatRequest, ChatResponse
from ..context import current_trace_id
from ..web.endpoints import open_stream, read_session, read_usage, readiness
from ..web.errors import CHAT_ERROR_STATUSES
from ..web.schemas import (
    ErrorResponse,
    HealthResponse,
    ReadyResponse,
    SessionHistory,
    UsageResponse,
)
from ..web.services import Services

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in CHAT_ERROR_STATUSES
}

router = APIRouter()


def get_services(request: Request) -> Services:
    # A plain function, not a dependency: admission (drain, API key, rate limit,
    # turn slots) runs before FastAPI sees the request (middleware/admission.py),
    # and FastAPI's dependency resolution costs a large share of a turn's CPU.
    services: Services = request.app.state.services
    return services


@router.get("/health", response_model=HealthResponse, tags=["ops"])
async def health() -> HealthResponse:
    return HealthResponse(
        status="ok", version=__version__, uptime_seconds=lifecycle.state.uptime_seconds()
    )


@router.get(
    "/ready", response_model=ReadyResponse, responses={503: {"model": ReadyResponse}}, tags=["ops"]
)
async def ready(request: Request) -> JSONResponse:
    status, checks = await readiness(getattr(request.app.state, "services", None))
    return JSONResponse(
        {"status": status, "checks": checks}, status_code=200 if status == "ready" else 503
    )


@router.post(
    "/v1/chat",
    response_model=ChatResponse,
    responses=ERROR_RESPONSES,
    tags=["agent"],
)
async def chat(body: ChatRequest, request: Request) -> ChatResponse:
    return await get_services(request).agent.run(body, trace_id=current_trace_id() or "")


@router.post(
    "/v1/chat/stream",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "events: token, tool, then done or error",
        },
        **ERROR_RESPONSES,
    },
    response_class=StreamingResponse,
    tags=["agent"],
)
async def chat_stream(body: ChatRequest, request: Request) -> StreamingResponse:
    events = await open_stream(get_services(request), body, trace_id=current_trace_id() or "")
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/v1/sessions/{session_id}",
    response_model=SessionHistory,
    responses={404: {"model": ErrorResponse}, **ERROR_RESPONSES},
    tags=["agent"],
    description="A session's kept history (user messages and answers), oldest first.",
)
async def session_history(session_id: str, request: Request) -> SessionHistory:
    return await read_session(get_services(request), session_id)


@router.get(
    "/v1/usage",
    response_model=UsageResponse,
    responses=ERROR_RESPONSES,
    tags=["agent"],
    description="The calling key's token use today (UTC) and its limits.",
)
async def usage(request: Request) -> UsageResponse:
    return await read_usage(get_services(request))
