"""Executing one attempt of a run: the agent turn, its events into the run's log.

Shared by the api's in-process runner (memory store) and the worker (SAQ).
A cancel request is a counter in the store (``run-cancel:<id>``), read at each
step boundary: before the first model call and after every tool result, so a
cancelled run never stops in the middle of a model call or a tool.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .. import observability
from ..agent.key_budget import BudgetOwner, current_owner
from ..agent.loop import Agent, error_object
from ..agent.schemas import ChatRequest
from ..context import run_id_var, trace_id_var
from ..sessions.base import SessionStore
from ..web.errors import AgentError
from .events import RunEventLog
from .model import END_EVENTS, RETRY_EVENT, RunOutcome, RunStatus

logger = logging.getLogger(__name__)


class RunCancelled(AgentError):
    status = 409
    code = "cancelled"
    default_message = "the run was cancelled"


def cancelled_outcome(trace_id: str) -> RunOutcome:
    return RunOutcome(status="cancelled", error=error_object(RunCancelled(), trace_id))


@dataclass
class RunContext:
    """What executing a run needs: an agent bounded by RUN_TIMEOUT, the event log,
    the store (cancel requests) and how long a cancel request is kept."""

    agent: Agent
    events: RunEventLog
    store: SessionStore
    retention_seconds: int


def run_agent(agent: Agent, run_timeout: float) -> Agent:
    """The api's agent (its fallbacks, prices, budgets and cache) with a run's own
    time limit (RUN_TIMEOUT) instead of REQUEST_TIMEOUT."""
    run = copy.copy(agent)
    run.limits = dataclasses.replace(agent.limits, request_timeout=run_timeout)
    return run


def _cancel_key(run_id: str) -> str:
    return f"run-cancel:{run_id}"


async def request_cancel(ctx: RunContext, run_id: str) -> None:
    await ctx.store.incr(_cancel_key(run_id), 1, ctx.retention_seconds)


async def cancel_requested(ctx: RunContext, run_id: str) -> bool:
    return await ctx.store.get_counter(_cancel_key(run_id)) > 0


async def recorded_outcome(events: RunEventLog, run_id: str) -> RunOutcome | None:
    """The outcome an earlier attempt already wrote as its final event, if any.

    A worker lost after writing ``done`` or ``error`` but before the queue marked
    the job complete leaves a finished run that is taken over; SAQ's sweep can
    also queue a just-finished run again. Either way the next execution keeps
    that outcome instead of executing the turn a second time."""
    after = 0
    while batch := await events.read(run_id, after):
        for item in batch:
            if item.event in END_EVENTS:
                if item.event == "done":
                    return RunOutcome(status="succeeded", result=item.data)
                cancelled = item.data.get("code") == RunCancelled.code
                status: RunStatus = "cancelled" if cancelled else "failed"
                return RunOutcome(status=status, error=item.data)
        after = batch[-1].seq
    return None


@contextmanager
def run_log_context(run_id: str, trace_id: str) -> Iterator[None]:
    """Every log line while a run executes carries its ``run_id`` (and the trace
    id of the request that queued it)."""
    run_token = run_id_var.set(run_id)
    trace_token = trace_id_var.set(trace_id or None)
    try:
        yield
    finally:
        trace_id_var.reset(trace_token)
        run_id_var.reset(run_token)


async def execute_run(
    ctx: RunContext,
    run_id: str,
    request: ChatRequest,
    *,
    trace_id: str,
    attempt: int,
    key_id: str | None = None,
    queued_at: float | None = None,
    trace_context: Mapping[str, str] | None = None,
) -> RunOutcome:
    """One attempt: the turn's events, then exactly one ``done`` or ``error`` event.

    A cancelled task (the worker's shutdown handing the run back) writes no final
    event: the next attempt writes ``retry`` first and starts the turn over.
    Metrics: the first attempt's queue wait (``queued_at``, epoch seconds), and
    for an attempt that ends the run its status and duration; the attempt's span
    links to the span that queued the run (``trace_context``).
    """
    if attempt == 1 and queued_at is not None:
        observability.record_queue_wait(max(0.0, time.time() - queued_at))
    with observability.run_span(run_id, attempt, trace_context or {}):
        return await _execute_attempt(
            ctx, run_id, request, trace_id=trace_id, attempt=attempt, key_id=key_id
        )


async def _execute_attempt(
    ctx: RunContext,
    run_id: str,
    request: ChatRequest,
    *,
    trace_id: str,
    attempt: int,
    key_id: str | None,
) -> RunOutcome:
    started = time.monotonic()
    # The run spends on the budget of the API key that queued it (agent/key_budget.py).
    current_owner.set(BudgetOwner(key_id) if key_id else None)
    with run_log_context(run_id, trace_id):
        # Also at attempt 1: a sweep working from a stale copy of the queue can queue
        # a run again that has just finished, with its attempt count unchanged.
        recorded = await recorded_outcome(ctx.events, run_id)
        if recorded is not None:
            logger.info(
                "run taken over after it finished, its outcome kept",
                extra={"attempt": attempt, "status": recorded.status},
            )
            return recorded
        if attempt > 1:
            logger.warning("run taken over after a lost attempt", extra={"attempt": attempt})
            await ctx.events.append(run_id, RETRY_EVENT, {"attempt": attempt})
        logger.info("run started", extra={"attempt": attempt})

        async def emit(event: str, data: dict[str, Any]) -> None:
            await ctx.events.append(run_id, event, data)
            if event == "tool" and await cancel_requested(ctx, run_id):
                raise RunCancelled()

        outcome: RunOutcome
        try:
            if await cancel_requested(ctx, run_id):
                raise RunCancelled()
            response = await ctx.agent.run(request, trace_id=trace_id, emit=emit)
        except asyncio.CancelledError:
            logger.info("run attempt interrupted, handed back to the queue")
            raise
        except RunCancelled:
            outcome = cancelled_outcome(trace_id)
        except AgentError as exc:
            outcome = RunOutcome(status="failed", error=error_object(exc, trace_id))
        except Exception as exc:
            logger.exception("run failed", extra={"error_type": type(exc).__name__})
            outcome = RunOutcome(status="failed", error=error_object(exc, trace_id))
        else:
            outcome = RunOutcome(status="succeeded", result=response.model_dump(mode="json"))
        if outcome.result is not None:
            await ctx.events.append(run_id, "done", outcome.result)
        else:
            await ctx.events.append(run_id, "error", outcome.error or {})
        observability.record_run(outcome.status, time.monotonic() - started)
        logger.info("run finished", extra={"status": outcome.status})
        return outcome
