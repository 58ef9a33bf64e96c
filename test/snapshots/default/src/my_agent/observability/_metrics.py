"""The contract's metrics. Imported lazily (see the package docstring)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

# The multiprocess mode has no *_created series; the in-process mode matches it.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)

REQUESTS = Counter(
    "agent_requests_total",
    "HTTP requests by route template, method and status",
    ["route", "method", "status"],
)
REQUEST_DURATION = Histogram(
    "agent_request_duration_seconds",
    "HTTP request duration by route template and method",
    ["route", "method"],
    buckets=REQUEST_BUCKETS,
)
ACTIVE_REQUESTS = Gauge(
    "agent_active_requests", "HTTP requests in flight", multiprocess_mode="livesum"
)
LLM_CALLS = Counter("agent_llm_calls_total", "Model calls by model and status", ["model", "status"])
LLM_CALL_DURATION = Histogram(
    "agent_llm_call_duration_seconds", "Model call duration by model", ["model"]
)
TOKENS = Counter("agent_tokens_total", "Tokens by model and type (input/output)", ["model", "type"])
TOOL_CALLS = Counter("agent_tool_calls_total", "Tool calls by tool and status", ["tool", "status"])
BUDGET_RATIO = Gauge(
    "agent_token_budget_used_ratio",
    "Share of TOKEN_BUDGET_DAILY used today (0..1)",
    multiprocess_mode="livemostrecent",
)

# What /metrics serves in single-process mode: exactly the contract's metrics
# (the default registry also holds process_* and python_* collectors).
SCRAPE_REGISTRY = CollectorRegistry(auto_describe=True)
for _metric in (
    REQUESTS,
    REQUEST_DURATION,
    ACTIVE_REQUESTS,
    LLM_CALLS,
    LLM_CALL_DURATION,
    TOKENS,
    TOOL_CALLS,
    BUDGET_RATIO,
):
    SCRAPE_REGISTRY.register(_metric)
