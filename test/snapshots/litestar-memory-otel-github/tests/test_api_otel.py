"""OpenTelemetry under Litestar: the server span of each request is named by the
route template Litestar matched, and the GenAI spans of the turn hang under it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from lite_agent_with_the_longest_allowed_name import observability
from lite_agent_with_the_longest_allowed_name.api import create_app
from lite_agent_with_the_longest_allowed_name.config import Settings
from lite_agent_with_the_longest_allowed_name.observability import _state

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class Recorded:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.reader = InMemoryMetricReader()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def request_routes(self) -> set[str]:
        data = self.reader.get_metrics_data()
        routes: set[str] = set()
        for rm in data.resource_metrics if data else []:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name == "agent_requests_total":
                        routes |= {
                            str((p.attributes or {})["route"]) for p in metric.data.data_points
                        }
        return routes


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorded]:
    r = Recorded()
    # The app's lifespan would build providers from OTEL_*: keep the in-memory ones.
    monkeypatch.setattr(observability, "setup", lambda settings: None)
    monkeypatch.setattr(observability, "shutdown", lambda: None)
    _state.configure(r.tracer_provider, r.meter_provider)
    try:
        yield r
    finally:
        _state.configure(None, None)
        r.tracer_provider.shutdown()
        r.meter_provider.shutdown()


@pytest.fixture
def client(recorded: Recorded) -> Iterator[TestClient[Any]]:
    settings = Settings(_env_file=None, log_format="json", environment="test")
    with TestClient[Any](create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_server_span_named_by_route_template(client: TestClient[Any], recorded: Recorded) -> None:
    response = client.post(
        "/v1/chat",
        json={"message": "what is 6*7"},
        headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
    )
    assert response.status_code == 200
    assert response.headers["x-trace-id"] == TRACE_ID
    assert response.json()["trace_id"] == TRACE_ID

    spans = recorded.spans()
    servers = [s for s in spans if s.kind is SpanKind.SERVER]
    assert len(servers) == 1
    server = servers[0]
    assert server.name == "POST /v1/chat"
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/v1/chat"
    assert server.attributes["http.response.status_code"] == 200
    assert server.context is not None
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == PARENT_ID

    children = [
        s for s in spans if s.parent is not None and s.parent.span_id == server.context.span_id
    ]
    operations = {str((s.attributes or {}).get("gen_ai.operation.name")) for s in children}
    assert "chat" in operations
    assert len(children) >= 3  # two model calls and the calculator tool call


def test_unmatched_and_templated_routes(client: TestClient[Any], recorded: Recorded) -> None:
    client.get("/health")
    client.get("/no-such-route/123")
    client.get("/v1/chat")  # 405
    names = sorted(s.name for s in recorded.spans() if s.kind is SpanKind.SERVER)
    assert "GET /health" in names
    assert "GET" in names  # the 404: no route, no raw path
    assert all("/no-such-route" not in name for name in names)
    routes = recorded.request_routes()
    assert "/health" in routes
    assert "unmatched" in routes
    assert not any("no-such-route" in route for route in routes)
