"""What every observability layer provides, and the metrics it exposes.

One definition of the contract's metrics (docs/CONTRACT.md, "Metrics"): their
names, help texts, units, labels and buckets, and of the two label rules every
stack shares (route templates, never raw paths; a bounded method label). The
prometheus and otel layers build their instruments from ``METRICS``; the
access log and both request middlewares label with ``route_template()`` and
``bounded_method()``.

``ObservabilityStack`` is the interface of the ``observability`` package each
layer (minimal, prometheus, otel) implements; mypy checks the chosen layer
against it where the core imports it (``web/services.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from .middleware import ASGIApp

UNMATCHED = "unmatched"
"""The route label of a request no route matched (a 404, a raw path never becomes a label)."""

OTHER_METHOD = "_OTHER"
"""The method label of any method outside ``KNOWN_METHODS`` (OpenTelemetry's HTTP convention)."""

KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}
)

DURATION_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds; for requests and model calls alike: a model call is most of a turn,
and one set of bounds lets a dashboard put the two side by side."""

RUN_DURATION_BUCKETS: tuple[float, ...] = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
"""Seconds; a background run is meant to outlive an HTTP request (RUN_TIMEOUT, minutes)."""

QUEUE_WAIT_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)
"""Seconds from a run's POST to its start: sub-second with idle workers, minutes when they fall behind."""

RUN_STATUSES: tuple[str, ...] = ("succeeded", "failed", "cancelled")
"""The ``status`` label of ``agent_runs_total``: a run's terminal status (docs/CONTRACT.md)."""

MetricKind = Literal["counter", "histogram", "gauge", "updown"]


@dataclass(frozen=True)
class MetricSpec:
    name: str
    kind: MetricKind
    description: str
    labels: tuple[str, ...] = ()
    unit: str = "1"
    buckets: tuple[float, ...] = ()


REQUESTS = MetricSpec(
    "agent_requests_total",
    "counter",
    "HTTP requests by route template, method and status.",
    ("route", "method", "status"),
    "{request}",
)
REQUEST_DURATION = MetricSpec(
    "agent_request_duration_seconds",
    "histogram",
    "HTTP request duration by route template and method.",
    ("route", "method"),
    "s",
    DURATION_BUCKETS,
)
ACTIVE_REQUESTS = MetricSpec(
    "agent_active_requests", "updown", "HTTP requests in flight.", (), "{request}"
)
LLM_CALLS = MetricSpec(
    "agent_llm_calls_total",
    "counter",
    "LLM calls by model and status.",
    ("model", "status"),
    "{call}",
)
LLM_CALL_DURATION = MetricSpec(
    "agent_llm_call_duration_seconds",
    "histogram",
    "LLM call duration by model.",
    ("model",),
    "s",
    DURATION_BUCKETS,
)
TOKENS = MetricSpec(
    "agent_tokens_total",
    "counter",
    "Tokens by model and type (input/cached_input/output; input excludes cached_input).",
    ("model", "type"),
    "{token}",
)
TOOL_CALLS = MetricSpec(
    "agent_tool_calls_total",
    "counter",
    "Tool calls by tool and status.",
    ("tool", "status"),
    "{call}",
)
BUDGET_RATIO = MetricSpec(
    "agent_token_budget_used_ratio",
    "gauge",
    "Share of the daily token budget used today (0..1; 0 when unlimited).",
)
COST = MetricSpec(
    "agent_cost_usd_total",
    "counter",
    "Spend in US dollars by model, from the LLM_PRICES table (priced models only).",
    ("model",),
    "{USD}",
)
KEY_BUDGET_RATIO = MetricSpec(
    "agent_key_token_budget_used_ratio",
    "gauge",
    "Share of KEY_TOKEN_BUDGET_DAILY each API key used today, by key id"
    " (BUDGET_METRIC_KEYS_MAX ids, later keys as _other).",
    ("key_id",),
)

RESPONSE_CACHE = MetricSpec(
    "agent_response_cache_lookups_total",
    "counter",
    "Response cache lookups by result (hit/miss); only with RESPONSE_CACHE_TTL_SECONDS.",
    ("result",),
    "{lookup}",
)

RUNS = MetricSpec(
    "agent_runs_total",
    "counter",
    "Background runs finished, by terminal status (succeeded/failed/cancelled).",
    ("status",),
    "{run}",
)
RUN_DURATION = MetricSpec(
    "agent_run_duration_seconds",
    "histogram",
    "Duration of a run's execution, from its start on a worker to its outcome.",
    (),
    "s",
    RUN_DURATION_BUCKETS,
)
QUEUE_WAIT = MetricSpec(
    "agent_queue_wait_seconds",
    "histogram",
    "Time a run waited in the queue, from POST /v1/runs to its first start.",
    (),
    "s",
    QUEUE_WAIT_BUCKETS,
)
QUEUE_DEPTH = MetricSpec(
    "agent_queue_depth",
    "gauge",
    "Runs queued and not yet taken by a worker, as last read from the queue.",
    (),
    "{run}",
)

METRICS: tuple[MetricSpec, ...] = (
    REQUESTS,
    REQUEST_DURATION,
    ACTIVE_REQUESTS,
    LLM_CALLS,
    LLM_CALL_DURATION,
    TOKENS,
    TOOL_CALLS,
    BUDGET_RATIO,
    COST,
    KEY_BUDGET_RATIO,
    RESPONSE_CACHE,
    RUNS,
    RUN_DURATION,
    QUEUE_WAIT,
    QUEUE_DEPTH,
)


def route_template(scope: MutableMapping[str, Any]) -> str:
    """The matched route template of a request, never its raw path.

    The framework layer's ``scope["state"]["route_template"]`` first; else the
    route the framework's router matched (Starlette ``scope["route"]``, Litestar
    ``scope["path_template"]``); else ``UNMATCHED``.
    """
    state = scope.get("state")
    if isinstance(state, dict):
        template = state.get("route_template")
        if isinstance(template, str) and template and template != UNMATCHED:
            return template
    route = scope.get("route")
    for attr in ("path_format", "path"):
        value = getattr(route, attr, None)
        if isinstance(value, str) and value:
            return value
    path_template = scope.get("path_template")
    if isinstance(path_template, str) and path_template:
        return path_template
    return UNMATCHED


def bounded_method(method: str) -> str:
    """The method label: a known method as is, anything else ``OTHER_METHOD``."""
    upper = method.upper()
    return upper if upper in KNOWN_METHODS else OTHER_METHOD


class LlmCallRecorder(Protocol):
    def set_usage(self, input_tokens: int, output_tokens: int) -> None: ...

    def set_status(self, status: str) -> None: ...


class ToolCallRecorder(Protocol):
    def set_status(self, status: str) -> None: ...


class ObservabilityStack(Protocol):
    """The ``observability`` package of every layer (a module satisfies this protocol)."""

    def prepare_process_tree(self, settings: Any) -> None:
        """In the runner, once, before any worker starts."""

    def setup(self, settings: Any) -> None:
        """In each worker, before the services start."""

    def shutdown(self) -> None:
        """In each worker, after the services stopped: flush what is buffered."""

    def instrument_app(self, app: ASGIApp, settings: Any) -> ASGIApp:
        """Wrap the whole ASGI app (outermost): request metrics and the server span."""

    def metrics_app(self) -> ASGIApp | None:
        """The ASGI app behind ``GET /metrics``, or None where metrics are pushed or absent."""

    def current_trace_ids(self) -> tuple[str, str] | None:
        """(trace_id, span_id) of the active span, or None where the stack has no tracing."""

    def llm_call(self, model: str) -> AbstractContextManager[LlmCallRecorder]:
        """Around one model call: its duration, status and (where traced) span."""

    def tool_call(self, name: str) -> AbstractContextManager[ToolCallRecorder]:
        """Around one tool run: its status and (where traced) span."""

    def record_tokens(
        self, model: str, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0
    ) -> None:
        """Three disjoint types: ``input`` (not from the cache), ``cached_input``, ``output``."""

    def set_budget_ratio(self, ratio: float) -> None: ...

    def record_cost(self, model: str, usd: float) -> None: ...

    def set_key_budget_ratio(self, key_id: str, ratio: float) -> None:
        """``key_id`` is already bounded (``agent/key_budget.py``)."""

    def record_response_cache(self, result: str) -> None:
        """One response cache lookup: ``hit`` or ``miss``."""

    def run_trace_context(self) -> dict[str, str]:
        """The active span's context as propagation headers (W3C ``traceparent``),
        carried in a run's job; empty where the stack has no tracing."""

    def run_span(
        self, run_id: str, attempt: int, trace_context: Mapping[str, str]
    ) -> AbstractContextManager[None]:
        """Around one attempt of a run: its span, linked to the span that queued it
        (``trace_context`` from ``run_trace_context()``), where traced."""

    def record_run(self, status: str, duration_seconds: float | None) -> None:
        """A run reached ``status`` (one of ``RUN_STATUSES``); the duration of the
        attempt that ended it, or None (cancelled before it started)."""

    def record_queue_wait(self, seconds: float) -> None:
        """A run started for the first time ``seconds`` after it was queued."""

    def set_queue_depth(self, depth: int) -> None:
        """The runs waiting for a worker, as just read from the queue."""
