"""Observability, minimal stack: JSON logs only; metrics are no-ops and /metrics is 404.

Implements ``observability_contract.ObservabilityStack``, like the prometheus
and otel stacks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..middleware import ASGIApp

__all__ = [
    "LlmCallRecorder",
    "ToolCallRecorder",
    "current_trace_ids",
    "instrument_app",
    "llm_call",
    "metrics_app",
    "prepare_process_tree",
    "record_cost",
    "record_queue_wait",
    "record_response_cache",
    "record_run",
    "record_tokens",
    "run_span",
    "run_trace_context",
    "set_budget_ratio",
    "set_key_budget_ratio",
    "set_queue_depth",
    "setup",
    "shutdown",
    "tool_call",
]


class LlmCallRecorder:
    def __init__(self, model: str) -> None:
        self.model = model
        self.status = "ok"
        self.input_tokens = 0
        self.output_tokens = 0

    def set_usage(self, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens, self.output_tokens = input_tokens, output_tokens

    def set_status(self, status: str) -> None:
        self.status = status


class ToolCallRecorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.status = "ok"

    def set_status(self, status: str) -> None:
        self.status = status


def prepare_process_tree(settings: Any) -> None:
    return None


def setup(settings: Any) -> None:
    return None


def shutdown() -> None:
    return None


def instrument_app(app: ASGIApp, settings: Any) -> ASGIApp:
    return app


def metrics_app() -> ASGIApp | None:
    return None


def current_trace_ids() -> tuple[str, str] | None:
    return None


@contextmanager
def llm_call(model: str) -> Iterator[LlmCallRecorder]:
    yield LlmCallRecorder(model)


@contextmanager
def tool_call(name: str, server: str | None = None) -> Iterator[ToolCallRecorder]:
    yield ToolCallRecorder(name)


def record_tokens(
    model: str, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0
) -> None:
    return None


def set_budget_ratio(ratio: float) -> None:
    return None


def record_cost(model: str, usd: float) -> None:
    return None


def set_key_budget_ratio(key_id: str, ratio: float) -> None:
    return None


def record_response_cache(result: str) -> None:
    return None


def run_trace_context() -> dict[str, str]:
    return {}


@contextmanager
def run_span(run_id: str, attempt: int, trace_context: Mapping[str, str]) -> Iterator[None]:
    yield


def record_run(status: str, duration_seconds: float | None) -> None:
    return None


def record_queue_wait(seconds: float) -> None:
    return None


def set_queue_depth(depth: int) -> None:
    return None
