"""Spans and metrics around LLM calls and tool calls (GenAI semantic conventions)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from . import _state

_STATUSES = ("ok", "error")


def _bounded_status(status: str) -> str:
    return status if status in _STATUSES else "error"


class LlmCallRecorder:
    """Handed to the code that makes one model call."""

    def __init__(self) -> None:
        self.status: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None

    def set_usage(self, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens = int(input_tokens)
        self.output_tokens = int(output_tokens)

    def set_status(self, status: str) -> None:
        self.status = _bounded_status(status)


class ToolCallRecorder:
    """Handed to the code that runs one tool."""

    def __init__(self) -> None:
        self.status: str | None = None

    def set_status(self, status: str) -> None:
        self.status = _bounded_status(status)


@contextmanager
def _child_span(
    name: str,
    kind: SpanKind,
    attributes: dict[str, str],
    recorder: LlmCallRecorder | ToolCallRecorder,
    on_end: Callable[[Span, str], None],
) -> Iterator[None]:
    """A span under the current (request) span around one call. An exception
    marks the recorder and the span as errors; ``on_end(span, status)`` runs
    last, with the final status, before the span ends."""
    with _state.tracer().start_as_current_span(
        name,
        kind=kind,
        attributes=attributes,
        record_exception=True,
        set_status_on_exception=True,
    ) as span:
        try:
            yield
        except BaseException as exc:
            if recorder.status is None:
                recorder.status = "error"
            span.set_attribute("error.type", type(exc).__qualname__)
            raise
        finally:
            status = recorder.status or "ok"
            if status == "error":
                span.set_status(Status(StatusCode.ERROR))
            on_end(span, status)


@contextmanager
def llm_call(model: str) -> Iterator[LlmCallRecorder]:
    """One span (child of the request span) and the call metrics for one model call."""
    recorder = LlmCallRecorder()
    inst = _state.instruments()
    start = time.perf_counter()

    def finish(span: Span, status: str) -> None:
        if recorder.input_tokens is not None:
            span.set_attribute("gen_ai.usage.input_tokens", recorder.input_tokens)
        if recorder.output_tokens is not None:
            span.set_attribute("gen_ai.usage.output_tokens", recorder.output_tokens)
        inst.llm_calls.add(1, model, status)
        inst.record_llm_call_duration(time.perf_counter() - start, model)

    attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model}
    with _child_span(f"chat {model}", SpanKind.CLIENT, attributes, recorder, finish):
        yield recorder


@contextmanager
def tool_call(name: str) -> Iterator[ToolCallRecorder]:
    """One span (child of the request span) and the counter for one tool call."""
    recorder = ToolCallRecorder()
    inst = _state.instruments()

    def finish(span: Span, status: str) -> None:
        inst.tool_calls.add(1, name, status)

    attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
    with _child_span(f"execute_tool {name}", SpanKind.INTERNAL, attributes, recorder, finish):
        yield recorder


def record_tokens(model: str, input_tokens: int, output_tokens: int) -> None:
    inst = _state.instruments()
    if input_tokens:
        inst.tokens.add(int(input_tokens), model, "input")
    if output_tokens:
        inst.tokens.add(int(output_tokens), model, "output")


def set_budget_ratio(ratio: float) -> None:
    _state.set_budget(ratio)
