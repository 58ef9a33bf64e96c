"""Spans and metrics around LLM calls and tool calls (GenAI semantic conventions).

``llm_call``/``tool_call`` return a plain context manager that is also the
recorder handed to the calling code: one object per call, no generator frames.
"""

from __future__ import annotations

import time
from contextvars import Token
from types import TracebackType

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from . import _state

_STATUSES = ("ok", "error")


def record_failure(span: Span, exc: BaseException) -> None:
    """An exception that ends a span: its event, ``error.type`` and the error status."""
    if span.is_recording():
        span.record_exception(exc)
        span.set_attribute("error.type", type(exc).__qualname__)
        span.set_status(Status(StatusCode.ERROR))


def _bounded_status(status: str) -> str:
    return status if status in _STATUSES else "error"


class _CallSpan:
    """A span under the current (request) span around one call, made current while it runs.

    An exception marks the call and the span as errors (exception event,
    ``error.type``); ``_finish(span, status)`` adds each call's own attributes
    and metrics before the span ends.
    """

    __slots__ = ("_span", "_token", "status")

    def __init__(self) -> None:
        self.status: str | None = None
        self._span: Span = trace.INVALID_SPAN
        self._token: Token[otel_context.Context] | None = None

    def set_status(self, status: str) -> None:
        self.status = _bounded_status(status)

    def _start(self, name: str, kind: SpanKind, attributes: dict[str, str]) -> None:
        parent = trace.get_current_span()
        if parent.get_span_context().is_valid and not parent.is_recording():
            # Inside a trace the sampler dropped: a child would be dropped too
            # (parent-based), so none is made; logs keep the request's ids.
            return
        self._span = _state.tracer().start_span(name, kind=kind, attributes=attributes)
        self._token = otel_context.attach(trace.set_span_in_context(self._span))

    def _finish(self, span: Span, status: str) -> None:  # pragma: no cover (each call kind's own)
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span = self._span
        if exc is not None and self.status is None:
            self.status = "error"
        status = self.status or "ok"
        if span.is_recording():
            if exc is not None:
                span.record_exception(exc)
                span.set_attribute("error.type", type(exc).__qualname__)
            if status == "error":
                span.set_status(Status(StatusCode.ERROR))
        try:
            self._finish(span, status)
        finally:
            if self._token is not None:
                otel_context.detach(self._token)
            span.end()


class LlmCallRecorder(_CallSpan):
    """One model call: its span (``chat <model>``) and call metrics; handed to the calling code."""

    __slots__ = ("input_tokens", "model", "output_tokens", "started")

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.started = 0.0

    def set_usage(self, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens = int(input_tokens)
        self.output_tokens = int(output_tokens)

    def __enter__(self) -> LlmCallRecorder:
        self.started = time.perf_counter()
        self._start(
            f"chat {self.model}",
            SpanKind.CLIENT,
            {"gen_ai.operation.name": "chat", "gen_ai.request.model": self.model},
        )
        return self

    def _finish(self, span: Span, status: str) -> None:
        if span.is_recording() and self.input_tokens is not None:
            span.set_attributes(
                {
                    "gen_ai.usage.input_tokens": self.input_tokens,
                    "gen_ai.usage.output_tokens": self.output_tokens or 0,
                }
            )
        inst = _state.instruments()
        inst.llm_calls.add(1, self.model, status)
        inst.record_llm_call_duration(time.perf_counter() - self.started, self.model)


class ToolCallRecorder(_CallSpan):
    """One tool run: its span (``execute_tool <name>``) and counter; handed to the calling code.

    A tool of an MCP server (``server``) is a call to another process: its span is a
    CLIENT span with ``mcp.server.name`` and ``mcp.method.name``.
    """

    __slots__ = ("name", "server")

    def __init__(self, name: str, server: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.server = server

    def __enter__(self) -> ToolCallRecorder:
        attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": self.name}
        if self.server is None:
            self._start(f"execute_tool {self.name}", SpanKind.INTERNAL, attributes)
        else:
            attributes["mcp.server.name"] = self.server
            attributes["mcp.method.name"] = "tools/call"
            self._start(f"execute_tool {self.name}", SpanKind.CLIENT, attributes)
        return self

    def _finish(self, span: Span, status: str) -> None:
        _state.instruments().tool_calls.add(1, self.name, status)


def llm_call(model: str) -> LlmCallRecorder:
    """``with llm_call(model) as recorder:`` one span (child of the request span) and the call metrics."""
    return LlmCallRecorder(model)


def tool_call(name: str, server: str | None = None) -> ToolCallRecorder:
    """``with tool_call(name) as recorder:`` one span (child of the request span) and the tool counter."""
    return ToolCallRecorder(name, server)


def record_tokens(
    model: str, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0
) -> None:
    inst = _state.instruments()
    if input_tokens:
        inst.tokens.add(int(input_tokens), model, "input")
    if cached_input_tokens:
        inst.tokens.add(int(cached_input_tokens), model, "cached_input")
    if output_tokens:
        inst.tokens.add(int(output_tokens), model, "output")


def set_budget_ratio(ratio: float) -> None:
    _state.set_budget(ratio)


def record_cost(model: str, usd: float) -> None:
    if usd > 0:
        _state.instruments().cost.add(float(usd), model)


def set_key_budget_ratio(key_id: str, ratio: float) -> None:
    _state.instruments().key_budget_ratios.set(float(ratio), key_id)


def record_response_cache(result: str) -> None:
    _state.instruments().response_cache.add(1, result)
