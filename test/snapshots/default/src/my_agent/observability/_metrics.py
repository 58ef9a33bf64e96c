"""The contract's metrics (``observability_contract.METRICS``). Imported lazily (see the package docstring)."""

from __future__ import annotations

from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from .. import observability_contract as contract
from ..observability_contract import MetricSpec

# The multiprocess mode has no *_created series; the in-process mode matches it.
disable_created_metrics()  # type: ignore[no-untyped-call]

# How each gauge is aggregated across worker processes in multiprocess mode.
_MULTIPROCESS_MODES: dict[str, Literal["livesum", "livemostrecent"]] = {
    contract.ACTIVE_REQUESTS.name: "livesum",
    contract.BUDGET_RATIO.name: "livemostrecent",
    contract.KEY_BUDGET_RATIO.name: "livemostrecent",
    # Every process that sees the queue reads the same depth: the latest read.
    contract.QUEUE_DEPTH.name: "livemostrecent",
}


def _metric(spec: MetricSpec) -> Any:
    if spec.kind == "counter":
        return Counter(spec.name, spec.description, spec.labels)
    if spec.kind == "histogram":
        return Histogram(spec.name, spec.description, spec.labels, buckets=spec.buckets)
    return Gauge(
        spec.name, spec.description, spec.labels, multiprocess_mode=_MULTIPROCESS_MODES[spec.name]
    )


_BY_NAME = {spec.name: _metric(spec) for spec in contract.METRICS}
REQUESTS = _BY_NAME[contract.REQUESTS.name]
REQUEST_DURATION = _BY_NAME[contract.REQUEST_DURATION.name]
ACTIVE_REQUESTS = _BY_NAME[contract.ACTIVE_REQUESTS.name]
LLM_CALLS = _BY_NAME[contract.LLM_CALLS.name]
LLM_CALL_DURATION = _BY_NAME[contract.LLM_CALL_DURATION.name]
TOKENS = _BY_NAME[contract.TOKENS.name]
TOOL_CALLS = _BY_NAME[contract.TOOL_CALLS.name]
BUDGET_RATIO = _BY_NAME[contract.BUDGET_RATIO.name]
COST = _BY_NAME[contract.COST.name]
KEY_BUDGET_RATIO = _BY_NAME[contract.KEY_BUDGET_RATIO.name]
RESPONSE_CACHE = _BY_NAME[contract.RESPONSE_CACHE.name]
RUNS = _BY_NAME[contract.RUNS.name]
RUN_DURATION = _BY_NAME[contract.RUN_DURATION.name]
QUEUE_WAIT = _BY_NAME[contract.QUEUE_WAIT.name]
QUEUE_DEPTH = _BY_NAME[contract.QUEUE_DEPTH.name]
# Every terminal status from the start (at 0), so rate() and alerts see the series.
for _status in contract.RUN_STATUSES:
    RUNS.labels(_status)

# What /metrics serves in single-process mode: exactly the contract's metrics
# (the default registry also holds process_* and python_* collectors).
SCRAPE_REGISTRY = CollectorRegistry(auto_describe=True)
for _metric_object in _BY_NAME.values():
    SCRAPE_REGISTRY.register(_metric_object)
