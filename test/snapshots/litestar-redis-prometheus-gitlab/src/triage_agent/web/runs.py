"""The framework-free bodies of the runs API: ``/v1/runs`` and ``/v1/runs/{run_id}/...``.

The framework layers call ``admit()`` first (the drain, the API key, the rate
limit: the same as ``/v1/chat``) and pass its caller here. A run belongs to the
API key that queued it: for any other key it does not exist (404).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from .. import lifecycle
from ..agent.key_budget import current_owner
from ..agent.loop import encode_sse
from ..agent.schemas import ChatRequest
from ..runs import RunQueue
from ..runs.model import END_EVENTS, RunRecord, RunResponse, new_run_id, owner_of
from .errors import NotFound, ValidationFailed
from .services import Services

RUN_ID_PATTERN = r"^[0-9a-f]{32}$"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
# How often a reader of a run in progress looks for its next events.
EVENTS_POLL_SECONDS = 0.2


def _runs(services: Services) -> RunQueue:
    if services.runs is None:
        raise NotFound("runs are not available")
    return services.runs


async def _owned_run(services: Services, caller: str, run_id: str) -> RunRecord:
    if not re.fullmatch(RUN_ID_PATTERN, run_id):
        raise NotFound("no such run")
    record = await _runs(services).get(run_id)
    if record is None or record.owner != owner_of(caller):
        raise NotFound("no such run")
    return record


async def create_run(
    services: Services,
    caller: str,
    request: ChatRequest,
    *,
    idempotency_key: str | None,
    trace_id: str,
) -> RunResponse:
    """``POST /v1/runs``: the run queued (202), or the one already queued with
    this ``Idempotency-Key`` by the same API key."""
    services.agent.validate(request)
    if idempotency_key is not None and not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, idempotency_key):
        raise ValidationFailed(
            details=[
                {"field": "Idempotency-Key", "reason": "must be 1-255 visible ASCII characters"}
            ]
        )
    await services.budget.check()
    owner = owner_of(caller)
    spender = current_owner.get()  # set by admit(): the API key's budget
    record, _ = await _runs(services).submit(
        new_run_id(owner, idempotency_key),
        owner,
        request,
        trace_id=trace_id,
        key_id=spender.key_id if spender is not None else None,
    )
    return RunResponse.of(record)


async def read_run(services: Services, caller: str, run_id: str) -> RunResponse:
    """``GET /v1/runs/{run_id}``."""
    return RunResponse.of(await _owned_run(services, caller, run_id))


async def cancel_run(services: Services, caller: str, run_id: str) -> RunResponse:
    """``POST /v1/runs/{run_id}/cancel`` (202): stops at the run's next step boundary."""
    await _owned_run(services, caller, run_id)
    record = await _runs(services).cancel(run_id)
    if record is None:
        raise NotFound("no such run")
    return RunResponse.of(record)


def _last_event_id(value: str | None) -> int:
    if value is None or value.strip() == "":
        return 0
    if not value.strip().isdigit():
        raise ValidationFailed(
            details=[{"field": "Last-Event-ID", "reason": "must be an event id of this run"}]
        )
    return int(value.strip())


async def open_run_events(
    services: Services, caller: str, run_id: str, last_event_id: str | None
) -> AsyncIterator[bytes]:
    """``GET /v1/runs/{run_id}/events``: the run's events after ``Last-Event-ID``,
    each with its ``id``, live while the run goes on, ending with ``done`` or
    ``error``. While the service drains, the stream ends early; the client
    resumes with ``Last-Event-ID`` (on another replica)."""
    after = _last_event_id(last_event_id)
    await _owned_run(services, caller, run_id)
    runs = _runs(services)
    log = runs.ctx.events

    async def events() -> AsyncIterator[bytes]:
        nonlocal after
        while not lifecycle.state.draining:
            batch = await log.read(run_id, after)
            for item in batch:
                after = item.seq
                yield f"id: {item.seq}\n".encode() + encode_sse(item.event, item.data)
                if item.event in END_EVENTS:
                    return
            if batch:
                continue
            record = await runs.get(run_id)
            if record is None or (record.finished and not await log.read(run_id, after)):
                return  # past retention, or finished with its events already read
            await asyncio.sleep(EVENTS_POLL_SECONDS)

    return events()
