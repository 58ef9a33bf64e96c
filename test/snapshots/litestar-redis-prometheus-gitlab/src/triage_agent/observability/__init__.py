"""Observability, Prometheus stack: the contract's metrics, scraped from /metrics.

With several workers the metrics are aggregated across processes with
prometheus_client's multiprocess mode: ``prepare_process_tree()`` (in the
supervisor, before any worker starts) creates and cleans
PROMETHEUS_MULTIPROC_DIR under the temp dir (a tmpfs in the container).
prometheus_client is imported lazily so that variable is set before it loads.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..asgi import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "LlmCallRecorder",
    "ToolCallRecorder",
    "current_trace_ids",
    "instrument_app",
    "llm_call",
    "metrics_app",
    "prepare_process_tree",
    "record_tokens",
    "set_budget_ratio",
    "setup",
    "shutdown",
    "tool_call",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _get_metrics() -> Any:
    from . import _metrics  # noqa: PLC0415 (lazy: PROMETHEUS_MULTIPROC_DIR first)

    return _metrics


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
    return Path(tempfile.gettempdir()) / "triage_agent-prometheus"


def prepare_process_tree(settings: Any) -> None:
    """Create (or empty) the multiprocess directory and export it to the workers."""
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
        REGISTRY,
        CollectorRegistry,
        make_asgi_app,
    )
    from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415

    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        app: ASGIApp = make_asgi_app(registry)
    else:
        app = make_asgi_app(REGISTRY)
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
        metrics = _get_metrics()
        state = scope.setdefault("state", {})
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        metrics.ACTIVE_REQUESTS.inc()
        try:
            await self.app(scope, receive, record_status)
        finally:
            metrics.ACTIVE_REQUESTS.dec()
            route = str(state.get("route_template") or "unmatched")
            method = str(scope.get("method", "GET")).upper()
            method = method if method in KNOWN_METHODS else "other"
            metrics.REQUESTS.labels(route=route, method=method, status=str(status)).inc()
            metrics.REQUEST_DURATION.labels(route=route, method=method).observe(
                time.perf_counter() - started
            )


def instrument_app(app: ASGIApp, settings: Any) -> ASGIApp:
    return _Instrumented(app)


@contextmanager
def llm_call(model: str) -> Iterator[LlmCallRecorder]:
    metrics = _get_metrics()
    recorder = LlmCallRecorder(model)
    started = time.perf_counter()
    try:
        yield recorder
    except BaseException:
        recorder.set_status("error")
        raise
    finally:
        metrics.LLM_CALLS.labels(model=model, status=recorder.status).inc()
        metrics.LLM_CALL_DURATION.labels(model=model).observe(time.perf_counter() - started)


@contextmanager
def tool_call(name: str) -> Iterator[ToolCallRecorder]:
    metrics = _get_metrics()
    recorder = ToolCallRecorder(name)
    try:
        yield recorder
    except BaseException:
        recorder.set_status("error")
        raise
    finally:
        metrics.TOOL_CALLS.labels(tool=name, status=recorder.status).inc()


def record_tokens(model: str, input_tokens: int, output_tokens: int) -> None:
    metrics = _get_metrics()
    if input_tokens:
        metrics.TOKENS.labels(model=model, type="input").inc(input_tokens)
    if output_tokens:
        metrics.TOKENS.labels(model=model, type="output").inc(output_tokens)


def set_budget_ratio(ratio: float) -> None:
    _get_metrics().BUDGET_RATIO.set(ratio)
