from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from my_agent import observability
from my_agent.config import Settings
from my_agent.middleware import Receive, Scope, Send
from my_agent.observability_contract import METRICS


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_have_the_contract_names_and_labels() -> None:
    settings = Settings(_env_file=None)
    observability.setup(settings)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"]["route_template"] = "/things/{id}"
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    instrumented = observability.instrument_app(app, settings)
    before = sample("agent_requests_total", route="/things/{id}", method="POST", status="201")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=instrumented), base_url="http://t"
    ) as client:
        await client.post("/things/42")
    assert (
        sample("agent_requests_total", route="/things/{id}", method="POST", status="201")
        == before + 1
    )
    assert sample("agent_request_duration_seconds_count", route="/things/{id}", method="POST") >= 1
    assert (
        sample(
            "agent_request_duration_seconds_bucket", route="/things/{id}", method="POST", le="30.0"
        )
        >= 1
    )
    assert sample("agent_active_requests") == 0

    with observability.llm_call("m1") as llm:
        llm.set_usage(3, 4)
    with pytest.raises(RuntimeError), observability.llm_call("m1"):
        raise RuntimeError
    assert sample("agent_llm_calls_total", model="m1", status="ok") >= 1
    assert sample("agent_llm_calls_total", model="m1", status="error") >= 1
    assert sample("agent_llm_call_duration_seconds_count", model="m1") >= 2

    with observability.tool_call("calc") as tool:
        tool.set_status("error")
    with pytest.raises(RuntimeError), observability.tool_call("calc"):
        raise RuntimeError
    assert sample("agent_tool_calls_total", tool="calc", status="error") >= 2

    observability.record_tokens("m1", 5, 0)
    observability.record_tokens("m1", 0, 6)
    assert sample("agent_tokens_total", model="m1", type="input") >= 5
    assert sample("agent_tokens_total", model="m1", type="output") >= 6

    observability.record_tokens("m1", 3, 0, cached_input_tokens=4)
    assert sample("agent_tokens_total", model="m1", type="cached_input") >= 4

    observability.set_budget_ratio(0.25)
    assert sample("agent_token_budget_used_ratio") == 0.25
    observability.record_cost("m1", 0.0015)
    observability.record_cost("m1", 0.0005)
    assert sample("agent_cost_usd_total", model="m1") == pytest.approx(0.002)
    observability.set_key_budget_ratio("0123456789abcdef", 0.5)
    assert sample("agent_key_token_budget_used_ratio", key_id="0123456789abcdef") == 0.5

    before = sample("agent_response_cache_lookups_total", result="hit") or 0
    observability.record_response_cache("hit")
    assert sample("agent_response_cache_lookups_total", result="hit") == before + 1

    succeeded = sample("agent_runs_total", status="succeeded")
    cancelled = sample("agent_runs_total", status="cancelled")
    durations = sample("agent_run_duration_seconds_count")
    waits = sample("agent_queue_wait_seconds_count")
    observability.record_run("succeeded", 42.0)
    observability.record_run("cancelled", None)  # cancelled while queued: no duration
    observability.record_queue_wait(3.0)
    observability.set_queue_depth(5)
    assert sample("agent_runs_total", status="succeeded") == succeeded + 1
    assert sample("agent_runs_total", status="cancelled") == cancelled + 1
    assert sample("agent_run_duration_seconds_count") == durations + 1
    assert sample("agent_run_duration_seconds_bucket", le="60.0") >= 1
    assert sample("agent_queue_wait_seconds_count") == waits + 1
    assert sample("agent_queue_depth") == 5
    assert observability.run_trace_context() == {}  # no tracing in this stack
    with observability.run_span("r1", 1, {}):
        pass
    assert observability.current_trace_ids() is None
    observability.shutdown()


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def nothing() -> dict[str, str]:
        return {}

    async def drop(message: object) -> None:
        return None

    await observability.instrument_app(app, None)({"type": "lifespan"}, nothing, drop)
    assert seen == ["lifespan"]


async def test_metrics_app_serves_text() -> None:
    app = observability.metrics_app()
    assert app is not None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert "agent_requests_total" in response.text


def test_prepare_process_tree_makes_a_clean_multiprocess_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "prom"
    target.mkdir()
    (target / "stale.db").write_text("x")
    monkeypatch.setenv(observability.MULTIPROC_ENV, str(target))
    (target / "keep.txt").write_text("not ours")
    observability.prepare_process_tree(None)
    assert target.is_dir()
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    assert os.environ[observability.MULTIPROC_ENV] == str(target)
    app = observability.metrics_app()  # the multiprocess collector reads that directory
    assert app is not None
    monkeypatch.delenv(observability.MULTIPROC_ENV)
    assert str(observability.default_multiproc_dir()).endswith("-prometheus")


def test_one_worker_uses_in_process_metrics(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "prom"
    monkeypatch.setenv(observability.MULTIPROC_ENV, str(target))
    observability.prepare_process_tree(Settings(_env_file=None, workers=1))
    assert observability.MULTIPROC_ENV not in os.environ
    assert not target.exists()
    monkeypatch.setenv(observability.MULTIPROC_ENV, str(target))
    # Several workers need a shared session store (the memory store runs one).
    observability.prepare_process_tree(SimpleNamespace(workers=2, session_store="redis"))
    assert os.environ[observability.MULTIPROC_ENV] == str(target)
    assert target.is_dir()


async def test_single_process_scrape_has_only_the_contract_metrics() -> None:
    app = observability.metrics_app()
    assert app is not None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        text = (await client.get("/metrics")).text
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    # the contract's metrics and nothing else (no process or platform collectors)
    assert names == {spec.name for spec in METRICS}
    assert "_created" not in text


async def test_scrape_serves_exactly_the_one_metrics_contract() -> None:
    """Every metric of observability_contract.METRICS, with its help text, type, labels and buckets."""
    settings = Settings(_env_file=None)
    observability.setup(settings)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"]["route_template"] = "/v1/chat"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    instrumented = observability.instrument_app(app, settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=instrumented), base_url="http://t"
    ) as client:
        await client.post("/v1/chat")
        await client.request("BREW", "/v1/chat")
    with observability.llm_call("m1") as llm:
        llm.set_usage(1, 1)
    with observability.tool_call("calc"):
        pass
    observability.record_tokens("m1", 1, 1)
    metrics = observability.metrics_app()
    assert metrics is not None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=metrics), base_url="http://t"
    ) as client:
        text = (await client.get("/metrics")).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    expected = {spec.name.removesuffix("_total"): spec for spec in METRICS}
    assert set(families) == set(expected)
    for name, spec in expected.items():
        family = families[name]
        kind = "gauge" if spec.kind == "updown" else spec.kind
        assert (family.documentation, family.type) == (spec.description, kind), name
        for s in family.samples:
            labels = set(s.labels) - {"le"}
            assert labels == set(spec.labels), name
        if spec.kind == "histogram":
            bounds = sorted({float(s.labels["le"]) for s in family.samples if "le" in s.labels})
            assert bounds == [*spec.buckets, float("inf")], name
    methods = {s.labels["method"] for s in families["agent_requests"].samples}
    assert "_OTHER" in methods
    assert "BREW" not in methods
