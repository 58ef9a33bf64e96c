"""A background run's trace: its context carried in the job, its span linked to the queuing one.

The api injects the active span's context (the propagators of OTEL_PROPAGATORS,
W3C trace context by default) into the job; the attempt that executes the run,
later and usually in another process, starts a span of its own trace with a
Link to that context: a run outlives the request that queued it, so it is not
that request's child (OpenTelemetry's messaging conventions do the same).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanKind

from . import _state
from ._recorders import record_failure

RUN_SPAN_NAME = "agent_run"


def run_trace_context() -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def run_span(run_id: str, attempt: int, trace_context: Mapping[str, str]) -> Iterator[None]:
    """The attempt's CONSUMER span, current while the run executes (the model and
    tool calls' spans are its children)."""
    queued_by = trace.get_current_span(propagate.extract(dict(trace_context))).get_span_context()
    links = [Link(queued_by)] if queued_by.is_valid else []
    span = _state.tracer().start_span(
        RUN_SPAN_NAME,
        context=otel_context.Context(),  # a trace of its own, even in-process
        kind=SpanKind.CONSUMER,
        links=links,
        attributes={
            "messaging.operation.type": "process",
            "messaging.message.id": run_id,
            "agent.run.attempt": attempt,
        },
    )
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield
    except BaseException as exc:
        record_failure(span, exc)
        raise
    finally:
        otel_context.detach(token)
        span.end()


def record_run(status: str, duration_seconds: float | None) -> None:
    inst = _state.instruments()
    inst.runs.add(1, status)
    if duration_seconds is not None:
        inst.record_run_duration(duration_seconds)


def record_queue_wait(seconds: float) -> None:
    _state.instruments().record_queue_wait(seconds)


def set_queue_depth(depth: int) -> None:
    _state.instruments().queue_depth.set(float(depth))
