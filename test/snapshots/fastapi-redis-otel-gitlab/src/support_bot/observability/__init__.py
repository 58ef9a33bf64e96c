"""Observability: OpenTelemetry traces and metrics over OTLP/HTTP.

Configured only by the standard ``OTEL_*`` variables (endpoint, headers,
protocol, sampler, resource attributes, export interval, ``OTEL_SDK_DISABLED``,
``OTEL_TRACES_EXPORTER``/``OTEL_METRICS_EXPORTER=none``). The metrics carry the
contract's names, units and labels (``agent_*``); the collector turns them into
the same Prometheus series the prometheus stack exposes by scrape.

Implements ``observability_contract.ObservabilityStack``, like the prometheus
and minimal stacks.
"""

from __future__ import annotations

from ._middleware import instrument_app
from ._recorders import (
    LlmCallRecorder,
    ToolCallRecorder,
    llm_call,
    record_cost,
    record_response_cache,
    record_tokens,
    set_budget_ratio,
    set_key_budget_ratio,
    tool_call,
)
from ._runs import (
    record_queue_wait,
    record_run,
    run_span,
    run_trace_context,
    set_queue_depth,
)
from ._state import (
    current_trace_ids,
    metrics_app,
    prepare_process_tree,
    setup,
    shutdown,
)

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
