"""The contract's endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, StreamingResponse

from .. import __version__, lifecycle
from ..agent.schemas import ChatRequest, ChatResponse
from ..context import current_trace_id
from ..web.admission import admit
from ..web.endpoints import open_stream, read_session, readiness
from ..web.errors import CHAT_ERROR_STATUSES
from ..web.schemas import ErrorResponse, HealthResponse, ReadyResponse, SessionHistory
from ..web.services import Services

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in CHAT_ERROR_STATUSES
}

router = APIRouter()


async def get_services(request: Request) -> Services:
    # async on purpose: FastAPI runs a plain-def dependency in its thread
    # pool, a thread hop per request for a dictionary lookup.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def guard(
    request: Request,
    services: ServicesDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    """``admit()`` as a dependency: the drain, the API key, the rate limit.

    The caller it admitted is ``request.state.caller`` (whose runs it may see)."""
    request.state.caller = await admit(
        services,
        client_host=request.client.host if request.client else None,
        authorization=authorization,
        x_api_key=x_api_key,
    )


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
    dependencies=[Depends(guard)],
    tags=["agent"],
)
async def chat(body: ChatRequest, services: ServicesDep) -> ChatResponse:
    return await services.agent.run(body, trace_id=current_trace_id() or "")


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
    dependencies=[Depends(guard)],
    tags=["agent"],
)
async def chat_stream(body: ChatRequest, services: ServicesDep) -> StreamingResponse:
    events = await open_stream(services, body, trace_id=current_trace_id() or "")
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/v1/sessions/{session_id}",
    response_model=SessionHistory,
    responses={404: {"model": ErrorResponse}, **ERROR_RESPONSES},
    dependencies=[Depends(guard)],
    tags=["agent"],
    description="A session's kept history (user messages and answers), oldest first.",
)
async def session_history(session_id: str, services: ServicesDep) -> SessionHistory:
    return await read_session(services, session_id)
