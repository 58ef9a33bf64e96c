"""The runs API (``/v1/runs``): thin handlers over ``web/runs.py``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from ..agent.schemas import ChatRequest
from ..context import current_trace_id
from ..runs.model import RunResponse
from ..web.runs import cancel_run, create_run, open_run_events, read_run
from ..web.schemas import ErrorResponse
from .routes import ERROR_RESPONSES, get_services

# Admission (the API key, the rate limit, the budget) is the core's ASGI step
# (middleware/admission.py): it leaves the caller in the request's state.
router = APIRouter(tags=["runs"])

RUN_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse},
    **ERROR_RESPONSES,
}


def caller_of(request: Request) -> str:
    caller: str = request.state.caller
    return caller


@router.post(
    "/v1/runs",
    status_code=202,
    response_model=RunResponse,
    responses=ERROR_RESPONSES,
    description="Queue a run of the /v1/chat request; an Idempotency-Key returns the same run.",
)
async def post_run(
    body: ChatRequest,
    request: Request,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> RunResponse:
    return await create_run(
        get_services(request),
        caller_of(request),
        body,
        idempotency_key=idempotency_key,
        trace_id=current_trace_id() or "",
    )


@router.get("/v1/runs/{run_id}", response_model=RunResponse, responses=RUN_RESPONSES)
async def get_run(run_id: str, request: Request) -> RunResponse:
    return await read_run(get_services(request), caller_of(request), run_id)


@router.get(
    "/v1/runs/{run_id}/events",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "events with ids: token, tool, (retry), then done or error",
        },
        **RUN_RESPONSES,
    },
    response_class=StreamingResponse,
)
async def get_run_events(
    run_id: str,
    request: Request,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    events = await open_run_events(get_services(request), caller_of(request), run_id, last_event_id)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post(
    "/v1/runs/{run_id}/cancel",
    status_code=202,
    response_model=RunResponse,
    responses=RUN_RESPONSES,
    description="Stop the run at its next step boundary.",
)
async def post_cancel(run_id: str, request: Request) -> RunResponse:
    return await cancel_run(get_services(request), caller_of(request), run_id)
