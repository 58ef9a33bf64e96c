"""Observability, Prometheus stack: the contract's metrics, scraped from /metrics.

With several workers the metrics are aggregated across processes with
prometheus_client's multiprocess mode: ``prepare_process_tree()`` (in the
supervisor, before any worker starts) creates and cleans
PROMETHEUS_MULTIPROC_DIR under the temp dir (a tmpfs in the container).
With one worker (WORKERS resolves to 1; always with the memory store) the service is a single process: it
uses prometheus_client's in-process values instead (multiprocess mode writes
every update to an mmap'd file, a measurable share of each request) and
``prepare_process_tree()`` removes PROMETHEUS_MULTIPROC_DIR from its environment.
prometheus_client is imported lazily so that variable is settled before it loads.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..observability_contract import bounded_method, route_template
from ..workers import worker_count

if TYPE_CHECKING:
    from ..middleware import ASGIApp, Message, Receive, Scope, Send

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

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


_loaded: Any = None


def _get_metrics() -> Any:
    global _loaded  # noqa: PLW0603 (a lazily loaded module, set once)
    if _loaded is None:
        from . import _metrics  # noqa: PLC0415 (lazy: PROMETHEUS_MULTIPROC_DIR first)

        _loaded = _metrics
    return _loaded


# Labelled children by label values, so the hot path skips prometheus_client's
# label validation and lock. Bounded: the label values are route templates,
# known methods, status codes, configured models, registered tools and the
# bounded key ids of agent/key_budget.py.
_children: dict[tuple[str, ...], Any] = {}


def _child(name: str, *values: str) -> Any:
    key = (name, *values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = getattr(_get_metrics(), name).labels(*values)
    return child


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


def default_multiproc_dir() -> Path:
    return Path(tempfile.gettempdir()) / "my_agent-prometheus"


def _single_process(settings: Any) -> bool:
    """Does the runner serve from this one process (worker_count() is 1)?"""
    if not isinstance(getattr(settings, "workers", None), int):
        return False  # unknown: the multiprocess mode is correct either way
    return worker_count(settings) == 1


def prepare_process_tree(settings: Any) -> None:
    """Choose the metrics mode before prometheus_client loads (runner, once).

    Several workers: create (or empty) the multiprocess directory and export it
    to the workers. One worker: in-process values, no directory.
    """
    if _single_process(settings):
        os.environ.pop(MULTIPROC_ENV, None)
        return
    directory = Path(os.environ.get(MULTIPROC_ENV) or default_multiproc_dir())
    directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    # Only the metric files of earlier runs go; never anything else in that directory.
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)


def setup(settings: Any) -> None:
    _get_metrics()


def shutdown() -> None:
    return None


def metrics_app() -> ASGIApp | None:
    from prometheus_client import (  # noqa: PLC0415 (lazy, see above)
        CollectorRegistry,
        make_asgi_app,
    )
    from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415

    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        app: ASGIApp = make_asgi_app(registry)
    else:
        app = make_asgi_app(_get_metrics().SCRAPE_REGISTRY)
    return app


def current_trace_ids() -> tuple[str, str] | None:
    return None


class _Instrumented:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        active = _get_metrics().ACTIVE_REQUESTS
        scope.setdefault("state", {})  # shared with the inner layers (the route template)
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        active.inc()
        try:
            await self.app(scope, receive, record_status)
        finally:
            elapsed = time.perf_counter() - started
            active.dec()
            route = route_template(scope)
            method = bounded_method(str(scope.get("method", "GET")))
            _child("REQUESTS", route, method, str(status)).inc()
            _child("REQUEST_DURATION", route, method).observe(elapsed)


def instrument_app(app: ASGIApp, settings: Any) -> ASGIApp:
    return _Instrumented(app)


@contextmanager
def llm_call(model: str) -> Iterator[LlmCallRecorder]:
    recorder = LlmCallRecorder(model)
    started = time.perf_counter()
    try:
        yield recorder
    except BaseException:
        recorder.set_status("error")
        raise
    finally:
        elapsed = time.perf_counter() - started
        _child("LLM_CALLS", model, recorder.status).inc()
        _child("LLM_CALL_DURATION", model).observe(elapsed)


@contextmanager
def tool_call(name: str, server: str | None = None) -> Iterator[ToolCallRecorder]:
    """The tool counter (``server``, an MCP server's name, is for the tracing stacks)."""
    recorder = ToolCallRecorder(name)
    try:
        yield recorder
    except BaseException:
        recorder.set_status("error")
        raise
    finally:
        _child("TOOL_CALLS", name, recorder.status).inc()


def record_tokens(
    model: str, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0
) -> None:
    if input_tokens:
        _child("TOKENS", model, "input").inc(input_tokens)
    if cached_input_tokens:
        _child("TOKENS", model, "cached_input").inc(cached_input_tokens)
    if output_tokens:
        _child("TOKENS", model, "output").inc(output_tokens)


def set_budget_ratio(ratio: float) -> None:
    _get_metrics().BUDGET_RATIO.set(ratio)


def record_cost(model: str, usd: float) -> None:
    if usd > 0:
        _child("COST", model).inc(usd)


def set_key_budget_ratio(key_id: str, ratio: float) -> None:
    _child("KEY_BUDGET_RATIO", key_id).set(ratio)


def record_response_cache(result: str) -> None:
    _child("RESPONSE_CACHE", result).inc()


def run_trace_context() -> dict[str, str]:
    return {}


@contextmanager
def run_span(run_id: str, attempt: int, trace_context: Mapping[str, str]) -> Iterator[None]:
    """No tracing in this stack: the run's log lines carry the queuing request's trace id."""
    yield


def record_run(status: str, duration_seconds: float | None) -> None:
    _child("RUNS", status).inc()
    if duration_seconds is not None:
        _get_metrics().RUN_DURATION.observe(duration_seconds)


def record_queue_wait(seconds: float) -> None:
    _get_metrics().QUEUE_WAIT.observe(seconds)


def set_queue_depth(depth: int) -> None:
    _get_metrics().QUEUE_DEPTH.set(depth)
