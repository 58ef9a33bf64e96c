"""The OpenTelemetry observability layer, with the SDK's in-memory exporters.

Framework independent: a bare ASGI app stands in for the service, wrapped by
instrument_app() like the real one.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Decision, ParentBased, Sampler
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanKind, StatusCode

from support_bot import observability
from support_bot.observability import _histograms, _sampling, _state
from support_bot.observability_contract import (
    DURATION_BUCKETS,
    METRICS,
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class CapturingExporter(MetricExporter):
    """Keeps the last export (cumulative: it holds every metric so far)."""

    def __init__(self) -> None:
        super().__init__()
        self.last: MetricsData | None = None

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self.last = metrics_data
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


class Telemetry:
    """In-memory spans; metrics through the service's own export path (WithHistograms)."""

    def __init__(self, sampler: Sampler | None = None) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(sampler=sampler)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.histograms = _histograms.Histograms()
        self.exported = CapturingExporter()
        resource = Resource.create({"service.name": "test"})
        scope = InstrumentationScope(_state.INSTRUMENTATION_SCOPE)
        self.reader = PeriodicExportingMetricReader(
            _histograms.WithHistograms(self.exported, self.histograms, resource, scope),
            export_interval_millis=3_600_000,
        )
        self.meter_provider = MeterProvider(resource=resource, metric_readers=[self.reader])

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def metrics(self) -> list[Metric]:
        self.reader.force_flush()
        data = self.exported.last
        if data is None:
            return []
        return [m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics]

    def points(self, name: str) -> list[Any]:
        return [p for m in self.metrics() if m.name == name for p in m.data.data_points]

    def metric_units(self) -> dict[str, str]:
        return {m.name: m.unit or "" for m in self.metrics()}


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    t = Telemetry()
    _state.configure(t.tracer_provider, t.meter_provider, t.histograms)
    try:
        yield t
    finally:
        _state.configure(None, None)
        t.tracer_provider.shutdown()
        t.meter_provider.shutdown()


async def fake_app(scope: Any, receive: Any, send: Any) -> None:
    """/v1/chat makes one LLM call and one tool call; anything else is an unmatched 404."""
    assert scope["type"] == "http"
    body: dict[str, Any]
    if scope["path"] == "/v1/chat":
        scope["state"]["route_template"] = "/v1/chat"
        with observability.llm_call("fake-model") as call:
            call.set_usage(12, 7)
            call.set_status("ok")
        observability.record_tokens("fake-model", 12, 7, cached_input_tokens=4)
        observability.record_cost("fake-model", 0.25)
        with observability.tool_call("clock") as tool:
            tool.set_status("ok")
        observability.set_budget_ratio(0.25)
        observability.set_key_budget_ratio("0123456789abcdef", 0.5)
        observability.record_response_cache("hit")
        observability.record_queue_wait(0.2)
        observability.record_run("succeeded", 12.0)
        observability.record_run("cancelled", None)
        observability.set_queue_depth(7)
        ids = observability.current_trace_ids()
        body = {"ids": list(ids) if ids else None}
        status = 200
    elif scope["path"] == "/v1/fail":
        scope["state"]["route_template"] = "/v1/fail"
        with observability.llm_call("fake-model") as call:
            raise RuntimeError("upstream exploded")
    elif scope["path"].startswith("/items/"):
        # a framework that only records the matched route in its own scope key
        scope["route"] = SimpleNamespace(path_format="/items/{item_id}")
        body, status = {}, 200
    else:
        body, status = {"error": "not_found"}, 404
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def call(method: str, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    app = observability.instrument_app(fake_app, None)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, headers=headers)

    return asyncio.run(go())


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def test_interface_names() -> None:
    for name in (
        "prepare_process_tree",
        "setup",
        "shutdown",
        "instrument_app",
        "metrics_app",
        "current_trace_ids",
        "llm_call",
        "tool_call",
        "record_tokens",
        "set_budget_ratio",
        "record_response_cache",
        "run_trace_context",
        "run_span",
        "record_run",
        "record_queue_wait",
        "set_queue_depth",
    ):
        assert callable(getattr(observability, name)), name
    assert observability.metrics_app() is None


def test_request_span_continues_traceparent_and_parents_llm_and_tool_spans(
    telemetry: Telemetry,
) -> None:
    response = call("POST", "/v1/chat", {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
    assert response.status_code == 200
    spans = {s.name: s for s in telemetry.finished()}
    server = spans["POST /v1/chat"]
    llm = spans["chat fake-model"]
    tool = spans["execute_tool clock"]
    assert server.kind is SpanKind.SERVER
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == PARENT_ID
    assert attrs(server)["http.route"] == "/v1/chat"
    assert attrs(server)["http.response.status_code"] == 200
    for child in (llm, tool):
        assert child.context.trace_id == server.context.trace_id
        assert child.parent is not None
        assert child.parent.span_id == server.context.span_id
    assert attrs(llm) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "fake-model",
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 7,
    }
    assert attrs(tool)["gen_ai.operation.name"] == "execute_tool"
    assert attrs(tool)["gen_ai.tool.name"] == "clock"
    # current_trace_ids() inside the request is the server span's ids
    assert response.json()["ids"] == [TRACE_ID, format(server.context.span_id, "016x")]


def test_new_trace_without_traceparent(telemetry: Telemetry) -> None:
    response = call("POST", "/v1/chat")
    (server,) = [s for s in telemetry.finished() if s.kind is SpanKind.SERVER]
    assert server.parent is None
    trace_id, span_id = response.json()["ids"]
    assert trace_id == format(server.context.trace_id, "032x")
    assert len(trace_id) == 32
    assert span_id == format(server.context.span_id, "016x")


def test_current_trace_ids_is_none_outside_a_span(telemetry: Telemetry) -> None:
    assert observability.current_trace_ids() is None


def test_contract_metrics_names_units_labels_and_buckets(telemetry: Telemetry) -> None:
    call("POST", "/v1/chat")
    call("GET", "/no/such/route/123")
    requests = {
        (p.attributes["route"], p.attributes["method"], p.attributes["status"]): p.value
        for p in telemetry.points("agent_requests_total")
    }
    assert requests == {("/v1/chat", "POST", "200"): 1, ("unmatched", "GET", "404"): 1}
    durations = telemetry.points("agent_request_duration_seconds")
    assert {tuple(sorted(p.attributes.items())) for p in durations} == {
        (("method", "POST"), ("route", "/v1/chat")),
        (("method", "GET"), ("route", "unmatched")),
    }
    assert isinstance(durations[0], HistogramDataPoint)
    assert tuple(durations[0].explicit_bounds) == (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
    assert [p.value for p in telemetry.points("agent_active_requests")] == [0]
    assert {
        (p.attributes["model"], p.attributes["status"]): p.value
        for p in telemetry.points("agent_llm_calls_total")
    } == {("fake-model", "ok"): 1}
    (llm_duration,) = telemetry.points("agent_llm_call_duration_seconds")
    assert dict(llm_duration.attributes) == {"model": "fake-model"}
    assert llm_duration.count == 1
    assert {
        (p.attributes["model"], p.attributes["type"]): p.value
        for p in telemetry.points("agent_tokens_total")
    } == {
        ("fake-model", "input"): 12,
        ("fake-model", "cached_input"): 4,
        ("fake-model", "output"): 7,
    }
    assert {p.attributes["model"]: p.value for p in telemetry.points("agent_cost_usd_total")} == {
        "fake-model": 0.25
    }
    assert [
        (dict(p.attributes), p.value) for p in telemetry.points("agent_key_token_budget_used_ratio")
    ] == [({"key_id": "0123456789abcdef"}, 0.5)]
    assert {
        (p.attributes["tool"], p.attributes["status"]): p.value
        for p in telemetry.points("agent_tool_calls_total")
    } == {("clock", "ok"): 1}
    assert [p.value for p in telemetry.points("agent_token_budget_used_ratio")] == [0.25]
    assert [
        (p.attributes["result"], p.value)
        for p in telemetry.points("agent_response_cache_lookups_total")
    ] == [("hit", 1)]
    runs = {p.attributes["status"]: p.value for p in telemetry.points("agent_runs_total")}
    assert runs == {"succeeded": 1, "failed": 0, "cancelled": 1}
    (run_duration,) = telemetry.points("agent_run_duration_seconds")
    assert (run_duration.count, run_duration.sum) == (1, 12.0)  # a cancel before the start: none
    (queue_wait,) = telemetry.points("agent_queue_wait_seconds")
    assert (queue_wait.count, queue_wait.sum) == (1, 0.2)
    assert [p.value for p in telemetry.points("agent_queue_depth")] == [7]
    units = telemetry.metric_units()
    assert units["agent_request_duration_seconds"] == "s"
    assert units["agent_llm_call_duration_seconds"] == "s"
    assert units["agent_token_budget_used_ratio"] == "1"


def test_a_run_span_links_to_the_carried_context_and_parents_its_calls(
    telemetry: Telemetry,
) -> None:
    tracer = _state.tracer()
    with tracer.start_as_current_span("POST /v1/runs") as queuing:
        carried = observability.run_trace_context()
    ids = queuing.get_span_context()
    assert carried["traceparent"] == (
        f"00-{ids.trace_id:032x}-{ids.span_id:016x}-{ids.trace_flags:02x}"
    )
    with observability.run_span("run-1", 2, carried), observability.llm_call("fake-model"):
        pass
    spans = {s.name: s for s in telemetry.finished()}
    run = spans["agent_run"]
    assert run.kind is SpanKind.CONSUMER
    assert run.parent is None
    assert run.context.trace_id != ids.trace_id
    assert [(link.context.trace_id, link.context.span_id) for link in run.links] == [
        (ids.trace_id, ids.span_id)
    ]
    assert attrs(run) == {
        "messaging.operation.type": "process",
        "messaging.message.id": "run-1",
        "agent.run.attempt": 2,
    }
    llm = spans["chat fake-model"]
    assert llm.parent is not None
    assert llm.parent.span_id == run.context.span_id


def test_a_run_span_without_context_has_no_link_and_marks_failures(telemetry: Telemetry) -> None:
    assert observability.run_trace_context() == {}  # no span current: nothing to carry
    with pytest.raises(RuntimeError), observability.run_span("run-2", 1, {}):
        raise RuntimeError("boom")
    (run,) = telemetry.finished()
    assert list(run.links) == []
    assert run.status.status_code is StatusCode.ERROR
    assert attrs(run)["error.type"] == "RuntimeError"


def test_exports_exactly_the_one_metrics_contract(telemetry: Telemetry) -> None:
    """Every metric of observability_contract.METRICS, with its description, unit and buckets."""
    call("POST", "/v1/chat")
    exported = {m.name: m for m in telemetry.metrics()}
    assert set(exported) == {spec.name for spec in METRICS}
    for spec in METRICS:
        metric = exported[spec.name]
        assert (metric.description, metric.unit) == (spec.description, spec.unit), spec.name
        for point in metric.data.data_points:
            assert set(point.attributes or {}) == set(spec.labels), spec.name
            if spec.kind == "histogram":
                assert isinstance(point, HistogramDataPoint)
                assert tuple(point.explicit_bounds) == spec.buckets, spec.name


def test_labels_are_bounded(telemetry: Telemetry) -> None:
    for i in range(50):
        call("GET", f"/random/{i}/x{i * 7}")
    call("BREW", "/v1/chat")
    call("GET", "/items/1")
    call("GET", "/items/2")
    routes = {p.attributes["route"] for p in telemetry.points("agent_requests_total")}
    methods = {p.attributes["method"] for p in telemetry.points("agent_requests_total")}
    assert routes == {"unmatched", "/v1/chat", "/items/{item_id}"}
    assert methods == {"GET", "_OTHER"}


def test_failures_mark_spans_and_metrics(telemetry: Telemetry) -> None:
    response = call("POST", "/v1/fail")
    assert response.status_code == 500
    spans = {s.name: s for s in telemetry.finished()}
    assert spans["chat fake-model"].status.status_code is StatusCode.ERROR
    assert spans["POST /v1/fail"].status.status_code is StatusCode.ERROR
    assert {
        (p.attributes["model"], p.attributes["status"])
        for p in telemetry.points("agent_llm_calls_total")
    } == {("fake-model", "error")}
    statuses = {p.attributes["status"] for p in telemetry.points("agent_requests_total")}
    assert statuses == {"500"}


def test_setup_reads_otel_env_and_shutdown_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
    resource = _state.build_resource()
    assert resource.attributes["service.name"] == "from-env"
    assert resource.attributes["deployment.environment"] == "test"
    # unique per worker process, so several workers' series stay apart
    assert resource.attributes["service.instance.id"]
    observability.setup(None)
    try:
        assert _state._current.tracer_provider is not None
        assert _state._current.meter_provider is not None
    finally:
        observability.shutdown()
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor().uninstrument()
    assert _state._current.tracer_provider is None


def test_no_endpoint_no_export_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_TRACES_EXPORTER",
        "OTEL_SERVICE_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    assert not _state._exporter_enabled("TRACES")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    assert _state._exporter_enabled("TRACES")
    monkeypatch.delenv("OTEL_TRACES_EXPORTER")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9/v1/traces")
    assert _state._exporter_enabled("TRACES")
    dotenv = tmp_path / "dot.env"
    dotenv.write_text(
        "OTEL_SERVICE_NAME=from-dotenv\nOTEL_EXPORTER_OTLP_TRACES_ENDPOINT=ignored\nOTHER=x\n"
    )
    _state.load_dotenv_otel(str(dotenv))
    assert os.environ["OTEL_SERVICE_NAME"] == "from-dotenv"
    assert os.environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == "http://127.0.0.1:9/v1/traces"
    assert os.environ.get("OTHER") != "x"
    monkeypatch.delenv("OTEL_SERVICE_NAME")


def test_sdk_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    observability.setup(None)
    try:
        response = call("POST", "/v1/chat")
        assert response.json()["ids"] is None
    finally:
        observability.shutdown()


class OtlpReceiver:
    """A local OTLP/HTTP endpoint that keeps every export request it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                received.append((self.path, self.headers.get("content-type", ""), body))
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> OtlpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_setup_exports_spans_and_metrics_over_otlp_http(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER",
        "OTEL_METRICS_EXPORTER",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_TRACES_SAMPLER",
    ):
        monkeypatch.delenv(name, raising=False)
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "600000")
        observability.setup(None)
        try:
            response = call("POST", "/v1/chat", {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
            assert response.status_code == 200
        finally:
            observability.shutdown()
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

            HTTPXClientInstrumentor().uninstrument()
    paths = {path for path, _, _ in receiver.requests}
    assert paths == {"/v1/traces", "/v1/metrics"}
    assert {ctype for _, ctype, _ in receiver.requests} == {"application/x-protobuf"}
    spans: dict[str, Any] = {}
    metric_names: set[str] = set()
    for path, _, body in receiver.requests:
        if path == "/v1/traces":
            traces = ExportTraceServiceRequest.FromString(body)
            for rs in traces.resource_spans:
                service = {a.key: a.value.string_value for a in rs.resource.attributes}
                assert service["service.name"] == _state.SERVICE_NAME
                for ss in rs.scope_spans:
                    spans.update({s.name: s for s in ss.spans})
        else:
            exported = ExportMetricsServiceRequest.FromString(body)
            for rm in exported.resource_metrics:
                for sm in rm.scope_metrics:
                    metric_names.update(m.name for m in sm.metrics)
    server, llm = spans["POST /v1/chat"], spans["chat fake-model"]
    assert server.trace_id.hex() == TRACE_ID
    assert server.parent_span_id.hex() == PARENT_ID
    assert llm.trace_id == server.trace_id
    assert llm.parent_span_id == server.span_id
    assert {a.key for a in llm.attributes} >= {
        "gen_ai.operation.name",
        "gen_ai.request.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
    }
    assert metric_names >= {
        "agent_requests_total",
        "agent_request_duration_seconds",
        "agent_active_requests",
        "agent_llm_calls_total",
        "agent_llm_call_duration_seconds",
        "agent_tokens_total",
        "agent_tool_calls_total",
        "agent_token_budget_used_ratio",
        "agent_cost_usd_total",
        "agent_key_token_budget_used_ratio",
    }


def test_duration_histogram_buckets_sum_min_max() -> None:
    histograms = _histograms.Histograms()
    for seconds in (0.01, 0.05, 0.050001, 2.0, 31.0):
        histograms.request_duration.record(seconds, "/v1/chat", "POST")
    histograms.request_duration.record(0.2, "unmatched", "GET")
    (metric,) = histograms.metrics()
    assert (metric.name, metric.unit) == ("agent_request_duration_seconds", "s")
    assert isinstance(metric.data, Histogram)
    assert metric.data.aggregation_temporality is AggregationTemporality.CUMULATIVE
    points = {tuple((p.attributes or {}).values()): p for p in metric.data.data_points}
    chat = points[("/v1/chat", "POST")]
    # upper bounds are inclusive: 0.05 is in the first bucket, 0.050001 in the second
    assert list(chat.bucket_counts) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 1]
    assert list(chat.explicit_bounds) == list(DURATION_BUCKETS)
    assert chat.count == 5
    assert chat.sum == pytest.approx(33.110001)
    assert (chat.min, chat.max) == (0.01, 31.0)
    assert points[("unmatched", "GET")].count == 1


def test_with_histograms_adds_them_to_every_export() -> None:
    exported = CapturingExporter()
    histograms = _histograms.Histograms()
    resource = Resource.create({"service.name": "test"})
    scope = InstrumentationScope("svc")
    wrapper = _histograms.WithHistograms(exported, histograms, resource, scope)
    # nothing recorded yet: the export passes through unchanged
    empty = MetricsData([])
    wrapper.export(empty)
    assert exported.last is empty
    histograms.llm_call_duration.record(0.3, "fake-model")
    wrapper.export(MetricsData([]))
    assert exported.last is not None
    (rm,) = exported.last.resource_metrics
    assert rm.resource is resource
    (sm,) = rm.scope_metrics
    assert sm.scope.name == "svc"
    assert [m.name for m in sm.metrics] == ["agent_llm_call_duration_seconds"]
    assert wrapper.force_flush()
    wrapper.shutdown()


def test_rate_limited_sampler_token_bucket() -> None:
    now = [100.0]
    sampler = _sampling.RateLimitedSampler(2, clock=lambda: now[0])

    def decisions(n: int) -> list[bool]:
        return [
            sampler.should_sample(None, i + 1, "span").decision is Decision.RECORD_AND_SAMPLE
            for i in range(n)
        ]

    assert decisions(3) == [True, True, False]  # a burst of `rate`
    now[0] += 0.5  # one token back
    assert decisions(2) == [True, False]
    now[0] += 60  # refills up to the burst, no more
    assert decisions(3) == [True, True, False]
    assert "2/s" in sampler.get_description()
    never = _sampling.RateLimitedSampler(0, clock=lambda: now[0])
    now[0] += 60
    assert [never.should_sample(None, 1, "s").decision for _ in range(2)] == [
        Decision.RECORD_AND_SAMPLE,  # the bucket holds at least one token at start
        Decision.DROP,
    ]
    with pytest.raises(ValueError, match="rate"):
        _sampling.RateLimitedSampler(-1)
    with pytest.raises(ValueError, match="rate"):
        _sampling.RateLimitedSampler(float("nan"))


def test_sampler_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    assert _sampling.sampler_from_env() is None  # the SDK's default
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_always_on")
    assert _sampling.sampler_from_env() is None
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "ParentBased_RateLimited")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "25")
    sampler = _sampling.sampler_from_env()
    assert isinstance(sampler, ParentBased)
    assert "RateLimitedSampler{25/s}" in str(sampler.get_description())  # type: ignore[no-untyped-call]
    for bad in ("fast", "-3", "inf", "nan"):
        monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", bad)
        assert _sampling.rate_from_env() == _sampling.DEFAULT_RATE
    monkeypatch.delenv("OTEL_TRACES_SAMPLER_ARG")
    assert _sampling.rate_from_env() == _sampling.DEFAULT_RATE


def test_rate_limited_traces_keep_ids_metrics_and_callers_decisions() -> None:
    now = [0.0]
    t = Telemetry(sampler=ParentBased(root=_sampling.RateLimitedSampler(1, clock=lambda: now[0])))
    _state.configure(t.tracer_provider, t.meter_provider, t.histograms)
    try:
        first, second = call("POST", "/v1/chat"), call("POST", "/v1/chat")
        # a caller that sampled its trace is followed even with the bucket empty
        sampled = call("POST", "/v1/chat", {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
        unsampled = call("POST", "/v1/chat", {"traceparent": f"00-{'1' * 32}-{PARENT_ID}-00"})
        for response in (first, second, sampled, unsampled):
            assert response.status_code == 200
            trace_id, span_id = response.json()["ids"]
            assert len(trace_id) == 32
            assert len(span_id) == 16
        recorded = {format(s.context.trace_id, "032x") for s in t.finished()}
        assert recorded == {first.json()["ids"][0], TRACE_ID}
        assert unsampled.json()["ids"][0] == "1" * 32
        # the dropped requests made no child spans, the recorded ones all of theirs
        assert sorted(s.name for s in t.finished()) == sorted(
            ["POST /v1/chat", "chat fake-model", "execute_tool clock"] * 2
        )
        # metrics count every request whatever the sampler decided
        assert {p.value for p in t.points("agent_llm_calls_total")} == {4}
        (duration,) = t.points("agent_request_duration_seconds")
        assert duration.count == 4
    finally:
        _state.configure(None, None)
        t.tracer_provider.shutdown()
        t.meter_provider.shutdown()


def test_calls_outside_a_request_still_get_spans() -> None:
    t = Telemetry()
    _state.configure(t.tracer_provider, t.meter_provider, t.histograms)
    try:
        with observability.llm_call("fake-model") as call_recorder:
            call_recorder.set_usage(3, 4)
        (span,) = t.finished()
        assert span.parent is None
        assert attrs(span)["gen_ai.usage.output_tokens"] == 4
        off = Telemetry(sampler=ALWAYS_OFF)
        _state.configure(off.tracer_provider, off.meter_provider, off.histograms)
        with observability.tool_call("clock") as tool:
            tool.set_status("weird")
        assert off.finished() == []
        assert {tuple(p.attributes.values()) for p in off.points("agent_tool_calls_total")} == {
            ("clock", "error")
        }
    finally:
        _state.configure(None, None)


def test_an_mcp_tool_call_is_a_client_span_naming_its_server(telemetry: Telemetry) -> None:
    with observability.tool_call("docs__search", server="docs") as tool:
        tool.set_status("ok")
    with observability.tool_call("calculator"):
        pass
    mcp_span, builtin_span = telemetry.finished()
    assert mcp_span.name == "execute_tool docs__search"
    assert mcp_span.kind == SpanKind.CLIENT
    assert attrs(mcp_span)["mcp.server.name"] == "docs"
    assert attrs(mcp_span)["mcp.method.name"] == "tools/call"
    assert attrs(mcp_span)["gen_ai.tool.name"] == "docs__search"
    assert builtin_span.kind == SpanKind.INTERNAL
    assert "mcp.server.name" not in attrs(builtin_span)
    assert {tuple(p.attributes.values()) for p in telemetry.points("agent_tool_calls_total")} == {
        ("docs__search", "ok"),
        ("calculator", "ok"),
    }
