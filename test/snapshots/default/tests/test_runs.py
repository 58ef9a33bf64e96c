"""Background runs (``/v1/runs``), for every framework and every store this service has.

The memory store runs runs in the api process.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from my_agent.agent.budget import TokenBudget
from my_agent.agent.fake import FakeChatModel
from my_agent.agent.key_budget import KeyBudgets
from my_agent.agent.loop import Agent, AgentLimits
from my_agent.agent.schemas import ChatRequest
from my_agent.agent.tools import default_registry
from my_agent.runs.events import MemoryRunEventLog
from my_agent.runs.execute import RunContext, execute_run, run_agent
from my_agent.sessions.memory import MemorySessionStore

from api_client import TestClient
from conftest import ClientFactory, Response, assert_error, make_settings

KEY_ONE = "runs-key-one-0123456789"
KEY_TWO = "runs-key-two-0123456789"
ONE = {"Authorization": f"Bearer {KEY_ONE}"}
TWO = {"Authorization": f"Bearer {KEY_TWO}"}
# Each model call of the fake takes this long: a run is in progress long enough
# to be read halfway, cancelled or interrupted.
LATENCY_MS = 400
TOOL_MESSAGE = {"message": "what is 6*7"}
WAIT_S = 60
STORES = ["memory"]

Events = list[tuple[int, str, dict[str, Any]]]


def parse_events(text: str) -> Events:
    events: Events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return events


class Runs:
    """An api (the framework's test client) and, with a shared store, its workers."""

    def __init__(self, client: TestClient, store: str, env: dict[str, str]) -> None:
        self.client = client
        self.store = store
        self.env = env

    def post(
        self, body: dict[str, Any] | None = None, *, idempotency_key: str | None = None
    ) -> Response:
        headers = dict(ONE)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        response: Response = self.client.post(
            "/v1/runs", json=body or TOOL_MESSAGE, headers=headers
        )
        return response

    def start(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(body)
        assert response.status_code == 202, response.text
        run: dict[str, Any] = response.json()
        return run

    def get(self, run_id: str, headers: dict[str, str] = ONE) -> dict[str, Any]:
        response = self.client.get(f"/v1/runs/{run_id}", headers=headers)
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        return run

    def wait(self, run_id: str, until: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            run = self.get(run_id)
            if until(run):
                return run
            time.sleep(0.05)
        pytest.fail(f"run {run_id} never got there: {run}")

    def finished(self, run_id: str) -> dict[str, Any]:
        return self.wait(run_id, lambda run: run["status"] in ("succeeded", "failed", "cancelled"))

    def events(self, run_id: str, last_event_id: int | None = None, stop_after: int = 0) -> Events:
        """The run's events (after ``last_event_id``); with ``stop_after``, the
        client disconnects after that many."""
        headers = dict(ONE)
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        url = f"/v1/runs/{run_id}/events"
        with self.client.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            text = ""
            for chunk in response.iter_text():
                text += chunk
                if stop_after and len(parse_events(text)) >= stop_after:
                    break
        events = parse_events(text)
        return events[:stop_after] if stop_after else events


# One queue for the module's tests (and its one worker); the tests that stop or
# kill workers get a queue of their own.
MODULE_QUEUE = f"test-{uuid.uuid4().hex[:12]}"


def make_runs(client_factory: ClientFactory, store: str, queue: str) -> Runs:
    env = {"RUN_QUEUE_NAME": queue, "API_KEYS": f"{KEY_ONE},{KEY_TWO}"}
    overrides: dict[str, Any] = {"api_keys": (KEY_ONE, KEY_TWO), "run_queue_name": queue}
    client = client_factory(make_settings(**overrides), model=FakeChatModel(latency_ms=LATENCY_MS))
    return Runs(client, store, env)


@pytest.fixture(params=STORES)
def runs(request: pytest.FixtureRequest, client_factory: ClientFactory) -> Runs:
    return make_runs(client_factory, request.param, MODULE_QUEUE)


@pytest.fixture
def worked(runs: Runs) -> Runs:
    """``runs``: with the memory store, the api executes runs itself."""
    return runs


def test_run_lifecycle(worked: Runs) -> None:
    response = worked.post()
    assert response.status_code == 202
    run = response.json()
    assert run["status"] in ("queued", "running")
    assert run["result"] is None
    assert run["error"] is None
    base = f"/v1/runs/{run['id']}"
    assert run["links"] == {"run": base, "events": f"{base}/events", "cancel": f"{base}/cancel"}

    done = worked.finished(run["id"])
    assert done["status"] == "succeeded", done
    assert done["result"]["answer"] == "The answer is 42."
    assert done["result"]["tool_calls"] == [{"name": "calculator", "status": "ok"}]
    assert done["created_at"] <= done["started_at"] <= done["finished_at"]


def test_run_events_are_the_chat_stream_events(worked: Runs) -> None:
    run = worked.start()
    events = worked.events(run["id"])
    assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    names = [name for _, name, _ in events]
    assert names[0] == "tool"
    assert names[-1] == "done"
    assert set(names[1:-1]) == {"token"}
    answer = "".join(data["delta"] for _, name, data in events if name == "token")
    assert answer == "The answer is 42."
    assert events[-1][2] == worked.get(run["id"])["result"]


def test_resume_with_last_event_id_misses_nothing_and_repeats_nothing(worked: Runs) -> None:
    run = worked.start()
    first = worked.events(run["id"], stop_after=2)  # disconnects while the run goes on
    rest = worked.events(run["id"], last_event_id=first[-1][0])
    whole = worked.events(run["id"])
    assert first + rest == whole
    assert whole[-1][1] == "done"
    for seen in range(len(whole)):
        assert worked.events(run["id"], last_event_id=seen) == whole[seen:]


def test_idempotency_key_returns_the_same_run(worked: Runs) -> None:
    first = worked.post(idempotency_key="order-1")
    again = worked.post(idempotency_key="order-1")
    other = worked.post(idempotency_key="order-2")
    assert first.status_code == again.status_code == other.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["created_at"] == first.json()["created_at"]
    assert other.json()["id"] != first.json()["id"]
    # The same key from another API key is another run.
    theirs = worked.client.post(
        "/v1/runs", json=TOOL_MESSAGE, headers={**TWO, "Idempotency-Key": "order-1"}
    )
    assert theirs.status_code == 202
    assert theirs.json()["id"] != first.json()["id"]
    worked.finished(first.json()["id"])
    # A retry after the run finished still returns it, finished.
    late = worked.post(idempotency_key="order-1")
    assert late.json()["id"] == first.json()["id"]
    assert late.json()["status"] == "succeeded"


def test_a_run_belongs_to_its_api_key(worked: Runs) -> None:
    run = worked.start()
    for method, path in (
        ("GET", f"/v1/runs/{run['id']}"),
        ("GET", f"/v1/runs/{run['id']}/events"),
        ("POST", f"/v1/runs/{run['id']}/cancel"),
    ):
        assert_error(worked.client.request(method, path, headers=TWO), 404, "not_found")
    assert worked.finished(run["id"])["status"] == "succeeded"


def test_cancel_stops_the_run_at_a_step_boundary(worked: Runs) -> None:
    run = worked.start()
    response = worked.client.post(f"/v1/runs/{run['id']}/cancel", headers=ONE)
    assert response.status_code == 202
    assert response.json()["id"] == run["id"]
    done = worked.finished(run["id"])
    assert done["status"] == "cancelled"
    assert done["result"] is None
    assert done["error"]["code"] == "cancelled"
    events = worked.events(run["id"])
    names = [name for _, name, _ in events]
    assert "done" not in names
    assert "token" not in names
    assert events[-1][1] == "error"
    assert events[-1][2]["code"] == "cancelled"
    # Cancelling a finished run changes nothing.
    again = worked.client.post(f"/v1/runs/{run['id']}/cancel", headers=ONE)
    assert again.status_code == 202
    assert again.json()["status"] == "cancelled"


def test_runs_refuse_like_chat(runs: Runs) -> None:
    assert_error(runs.client.post("/v1/runs", json=TOOL_MESSAGE), 401, "unauthorized")
    assert_error(runs.client.get(f"/v1/runs/{'0' * 32}"), 401, "unauthorized")
    assert_error(runs.post({"message": 1}), 422, "validation_error")
    assert_error(runs.post({"message": "x" * 9000}), 422, "validation_error")
    assert_error(runs.post(idempotency_key="has space"), 422, "validation_error")
    assert_error(runs.client.get(f"/v1/runs/{'0' * 32}", headers=ONE), 404, "not_found")
    assert_error(runs.client.get("/v1/runs/not-a-run-id", headers=ONE), 404, "not_found")
    run = runs.start()
    bad = runs.client.get(f"/v1/runs/{run['id']}/events", headers={**ONE, "Last-Event-ID": "later"})
    assert_error(bad, 422, "validation_error")


def test_runs_spend_the_token_budget(client_factory: ClientFactory) -> None:
    client = client_factory(
        make_settings(api_keys=(KEY_ONE,), token_budget_daily=1), model=FakeChatModel()
    )
    first = client.post("/v1/runs", json=TOOL_MESSAGE, headers=ONE)
    assert first.status_code == 202
    deadline = time.monotonic() + WAIT_S
    while client.get(f"/v1/runs/{first.json()['id']}", headers=ONE).json()["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert_error(client.post("/v1/runs", json=TOOL_MESSAGE, headers=ONE), 429, "budget_exceeded")


@pytest.mark.parametrize("attempt", [2, 1])
async def test_a_run_taken_over_after_its_final_event_keeps_its_outcome(attempt: int) -> None:
    # The worker wrote "done", then died before the queue marked the job complete
    # (attempt 2), or a stale sweep queued the finished run again (attempt 1): the
    # next execution must not run the turn again (two outcomes, two "done").
    store = MemorySessionStore(max_messages=50)
    model = FakeChatModel()
    agent = Agent(model, default_registry(), store, TokenBudget(store, 0), AgentLimits())
    events = MemoryRunEventLog(60)
    ctx = RunContext(agent, events, store, 60)
    first = await execute_run(ctx, "r1", ChatRequest(**TOOL_MESSAGE), trace_id="t", attempt=1)
    before = await events.read("r1", 0)
    again = await execute_run(ctx, "r1", ChatRequest(**TOOL_MESSAGE), trace_id="t", attempt=attempt)
    assert again == first
    assert await events.read("r1", 0) == before  # no retry, nothing executed twice
    assert [e.event for e in before].count("done") == 1


async def test_a_worker_runs_the_services_agent_and_spends_on_the_queuing_key() -> None:
    # A worker is another process: the key that queued the run comes with the job.
    store = MemorySessionStore(max_messages=50)
    budgets = KeyBudgets(store, api_keys=(KEY_ONE,), key_limit=100_000)
    agent = Agent(
        FakeChatModel(),
        default_registry(),
        store,
        TokenBudget(store, 0),
        AgentLimits(request_timeout=5),
        key_budgets=budgets,
        fallbacks=[FakeChatModel()],
    )
    runnable = run_agent(agent, 60)
    assert runnable.limits.request_timeout == 60
    assert runnable.models == agent.models  # the fallbacks, prices, budgets stay
    assert runnable.key_budgets is budgets
    ctx = RunContext(runnable, MemoryRunEventLog(60), store, 60)
    ident = budgets.id_of(KEY_ONE)
    outcome = await asyncio.create_task(
        execute_run(ctx, "r1", ChatRequest(**TOOL_MESSAGE), trace_id="t", attempt=1, key_id=ident),
        context=contextvars.Context(),  # nothing inherited from this test's context
    )
    assert outcome.status == "succeeded"
    assert outcome.result is not None
    spent = outcome.result["usage"]["input_tokens"] + outcome.result["usage"]["output_tokens"]
    assert (await budgets.key_usage(ident, budgets.now())).used_tokens == spent


def test_a_run_spends_its_api_keys_budget(client_factory: ClientFactory) -> None:
    client = client_factory(
        make_settings(api_keys=(KEY_ONE,), key_token_budget_daily=100_000), model=FakeChatModel()
    )
    run = client.post("/v1/runs", json=TOOL_MESSAGE, headers=ONE).json()
    deadline = time.monotonic() + WAIT_S
    url = f"/v1/runs/{run['id']}"
    while (done := client.get(url, headers=ONE).json())["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    usage = done["result"]["usage"]
    spent = usage["input_tokens"] + usage["output_tokens"]
    assert client.get("/v1/usage", headers=ONE).json()["key"]["used_tokens"] == spent


def metric_value(text: str, sample: str) -> float:
    """One sample (``name{labels}``) of a Prometheus scrape; 0 when absent."""
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    return 0.0


def scrape(response: Any) -> str:
    if response.status_code == 404:
        pytest.skip("this observability stack serves no /metrics (it pushes or has none)")
    assert response.status_code == 200
    return str(response.text)


RUN_SAMPLES = (
    'agent_runs_total{status="succeeded"}',
    "agent_run_duration_seconds_count",
    "agent_queue_wait_seconds_count",
)


def test_a_run_is_counted_on_the_metrics_of_the_process_that_executed_it(worked: Runs) -> None:
    def metrics() -> str:
        return scrape(worked.client.get("/metrics"))

    before = metrics()
    run = worked.start()
    assert worked.finished(run["id"])["status"] == "succeeded"
    after = metrics()
    for sample in RUN_SAMPLES:
        assert metric_value(after, sample) - metric_value(before, sample) == 1, sample
    assert "\nagent_queue_depth " in after
    assert 'agent_runs_total{status="failed"} 0.0' in after  # every status from the start
