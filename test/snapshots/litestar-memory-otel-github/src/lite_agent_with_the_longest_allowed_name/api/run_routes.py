"""The runs API (``/v1/runs``): thin Litestar handlers over ``web/runs.py``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter
from litestar.response import Stream
from litestar.types import ControllerRouterHandler

from ..context import current_trace_id
from ..runs.model import RunResponse
from ..web.runs import cancel_run, create_run, open_run_events, read_run
from ..web.schemas import ErrorResponse
from .routes import ERROR_RESPONSES, ChatBody, get_services

RUN_RESPONSES: dict[int, ResponseSpec] = {
    404: ResponseSpec(data_container=ErrorResponse, description="no such run"),
    **ERROR_RESPONSES,
}


def caller_of(request: Request[Any, Any, Any]) -> str:
    caller: str = request.state.caller
    return caller


@post(
    "/v1/runs",
    status_code=202,
    responses=ERROR_RESPONSES,
    tags=["runs"],
    description="Queue a run of the /v1/chat request; an Idempotency-Key returns the same run.",
)
async def post_run(
    data: ChatBody,
    request: Request[Any, Any, Any],
    idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
) -> RunResponse:
    return await create_run(
        get_services(request.app),
        caller_of(request),
        data,
        idempotency_key=idempotency_key,
        trace_id=current_trace_id() or "",
    )


@get("/v1/runs/{run_id:str}", responses=RUN_RESPONSES, tags=["runs"])
async def get_run(run_id: FromPath[str], request: Request[Any, Any, Any]) -> RunResponse:
    return await read_run(get_services(request.app), caller_of(request), run_id)


@get(
    "/v1/runs/{run_id:str}/events",
    responses=RUN_RESPONSES,
    tags=["runs"],
    media_type="text/event-stream",
    description="Server-sent events with ids: token, tool, (retry), then done or error.",
    response_description="events with ids: token, tool, (retry), then done or error",
)
async def get_run_events(
    run_id: FromPath[str],
    request: Request[Any, Any, Any],
    last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
) -> Stream:
    events = await open_run_events(
        get_services(request.app), caller_of(request), run_id, last_event_id
    )
    return Stream(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@post(
    "/v1/runs/{run_id:str}/cancel",
    status_code=202,
    responses=RUN_RESPONSES,
    tags=["runs"],
    description="Stop the run at its next step boundary.",
)
async def post_cancel(run_id: FromPath[str], request: Request[Any, Any, Any]) -> RunResponse:
    return await cancel_run(get_services(request.app), caller_of(request), run_id)


RUN_ROUTES: list[ControllerRouterHandler] = [post_run, get_run, get_run_events, post_cancel]
