"""Background runs (``/v1/runs``), for every framework and every store this service has.

The memory store runs runs in the api process. With Redis (set
REDIS_URL), the api only queues them and ``ROLE=worker`` processes
(``python -m triage_agent`` children) execute them: these tests start, SIGTERM and
SIGKILL real workers against the live store.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from saq import Job, Status

from triage_agent import observability
from triage_agent.agent.budget import TokenBudget
from triage_agent.agent.fake import FakeChatModel
from triage_agent.agent.key_budget import KeyBudgets
from triage_agent.agent.loop import Agent, AgentLimits
from triage_agent.agent.schemas import ChatRequest
from triage_agent.agent.tools import default_registry
from triage_agent.runs.events import MemoryRunEventLog
from triage_agent.runs.execute import RunContext, execute_run, run_agent
from triage_agent.runs.queue_saq import (
    RUN_FUNCTION,
    RUN_MAX_ATTEMPTS,
    RunsQueue,
    SaqRuns,
)
from triage_agent.sessions.memory import MemorySessionStore

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
STORE_URL = os.environ.get("REDIS_URL", "")
STORES = ["memory", "redis"] if STORE_URL else ["memory"]

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
    if store != "memory":
        env["SESSION_STORE"] = store
        env["REDIS_URL"] = STORE_URL
        overrides.update(session_store=store, redis_url=STORE_URL)
    client = client_factory(make_settings(**overrides), model=FakeChatModel(latency_ms=LATENCY_MS))
    return Runs(client, store, env)


@pytest.fixture(params=STORES)
def runs(request: pytest.FixtureRequest, client_factory: ClientFactory) -> Runs:
    return make_runs(client_factory, request.param, MODULE_QUEUE)


START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Workers:
    """``ROLE=worker`` children of the tests (``python -m triage_agent``), each ready
    (``/ready`` 200) when ``start()`` returns; whatever is left is killed at the end."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.started: list[subprocess.Popen[str]] = []
        self.module_worker: subprocess.Popen[str] | None = None
        # Each worker's probe listener (/health, /ready, /metrics), by process id.
        self.ports: dict[int, int] = {}

    def start(self, runs: Runs, **env: str) -> subprocess.Popen[str]:
        port = free_port()
        environment = {
            **os.environ,
            **runs.env,
            "ROLE": "worker",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "FAKE_LLM_LATENCY_MS": str(LATENCY_MS),
            "PYTHONUNBUFFERED": "1",
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_METRICS_EXPORTER": "none",
            # Each worker its own (Prometheus multiprocess mode: one per container in a deployment).
            "PROMETHEUS_MULTIPROC_DIR": str(self.cwd / f"metrics-{port}"),
            **env,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "triage_agent"],
            cwd=self.cwd,  # no .env here
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.started.append(process)
        self.ports[process.pid] = port
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the worker exited with {process.returncode}: {process.stdout}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    return process
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail("the worker never became ready")

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    pool = Workers(tmp_path_factory.mktemp("workers"))
    yield pool
    pool.stop_all()


@pytest.fixture
def worked(runs: Runs, workers: Workers) -> Runs:
    """``runs`` with the module's worker when the store is shared (memory: the api itself)."""
    if runs.store != "memory" and workers.module_worker is None:
        workers.module_worker = workers.start(runs)
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


@pytest.fixture
def shared(client_factory: ClientFactory) -> Runs:
    """An api on a queue of its own: no other test's worker takes its runs."""
    if not STORE_URL:
        pytest.skip("REDIS_URL is not set: no live store to test against")
    return make_runs(client_factory, "redis", f"test-{uuid.uuid4().hex[:12]}")


def test_a_killed_workers_run_is_taken_over_after_the_visibility_timeout(
    shared: Runs, workers: Workers
) -> None:
    slow = {"FAKE_LLM_LATENCY_MS": "5000", "RUN_VISIBILITY_TIMEOUT": "2"}
    doomed = workers.start(shared, **slow)
    run = shared.start()
    # Killed once its attempt has emitted an event: the next attempt must say "retry"
    # (a worker killed before its attempt began leaves nothing to take back).
    shared.events(run["id"], stop_after=1)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    workers.start(shared, RUN_VISIBILITY_TIMEOUT="2")
    done = shared.finished(run["id"])
    assert done["status"] == "succeeded", done
    names = [name for _, name, _ in shared.events(run["id"])]
    # At least once, never seen twice: a taken-over attempt starts with "retry" (drop
    # what came before it); whatever follows the last one is one clean attempt.
    assert names.count("retry") <= 1
    last_attempt = names[names.index("retry") + 1 :] if "retry" in names else names
    assert last_attempt.count("tool") == 1
    assert last_attempt[-1] == "done"
    assert names.count("done") == 1


def test_a_stopping_worker_hands_its_run_back(shared: Runs, workers: Workers) -> None:
    stopping = workers.start(shared, FAKE_LLM_LATENCY_MS="5000", SHUTDOWN_TIMEOUT="1")
    run = shared.start()
    shared.wait(run["id"], lambda r: r["status"] == "running")
    stopping.send_signal(signal.SIGTERM)
    assert stopping.wait(timeout=30) == 0
    assert shared.get(run["id"])["status"] == "queued"
    workers.start(shared)
    done = shared.finished(run["id"])
    assert done["status"] == "succeeded", done
    names = [name for _, name, _ in shared.events(run["id"])]
    assert names.count("retry") == 1
    assert names[-1] == "done"


LOST_RUNS = 8


async def test_a_sweep_of_a_lost_workers_runs_queues_each_once_within_its_lock() -> None:
    """A lost worker's runs (active, heartbeat silent) are swept in far less than the
    sweep's lock, so a second worker sweeping once the lock expired finds nothing
    left: each run is queued again exactly once, never twice (two attempts at once)."""
    if not STORE_URL:
        pytest.skip("REDIS_URL is not set: no live store to test against")
    name = f"test-{uuid.uuid4().hex[:12]}"
    first = RunsQueue.from_url(STORE_URL, name=name)
    second = RunsQueue.from_url(STORE_URL, name=name)
    await first.connect()
    await second.connect()
    try:
        keys = sorted(f"{name}-lost-{i}" for i in range(LOST_RUNS))  # job keys are unique per store
        for key in keys:
            await first.enqueue(
                Job(function=RUN_FUNCTION, key=key, heartbeat=1, retries=RUN_MAX_ATTEMPTS)
            )
        for _ in keys:  # taken by a worker that then dies: active, no more heartbeat
            job = await first.dequeue(timeout=5)
            assert job is not None
            await job.update(status=Status.ACTIVE, started=int(time.time() * 1000))
        await asyncio.sleep(1.5)
        lock = 1
        sweeps = [asyncio.create_task(first.sweep(lock))]
        await asyncio.sleep(lock + 0.2)  # the lock has expired: another worker sweeps too
        sweeps.append(asyncio.create_task(second.sweep(lock)))
        _, pending = await asyncio.wait(sweeps, timeout=5)
        for task in pending:
            task.cancel()
        assert not pending, "sweeping the lost runs took more than 5 s"
        assert sum(len(task.result()) for task in sweeps) == LOST_RUNS
        requeued: list[str] = []
        while (job := await first.dequeue(timeout=1)) is not None:
            requeued.append(job.key)
        assert sorted(requeued) == keys
    finally:
        await first.disconnect()
        await second.disconnect()


async def test_a_run_whose_sweeper_died_mid_sweep_is_swept_again() -> None:
    """The sweep aborts a lost run, then queues it again; a sweeping worker killed
    between the two must not leave the run in no list, lost: the next sweep queues it."""
    if not STORE_URL:
        pytest.skip("REDIS_URL is not set: no live store to test against")
    name = f"test-{uuid.uuid4().hex[:12]}"
    queue = RunsQueue.from_url(STORE_URL, name=name)
    await queue.connect()
    try:
        key = f"{name}-half-swept"
        await queue.enqueue(
            Job(function=RUN_FUNCTION, key=key, heartbeat=1, retries=RUN_MAX_ATTEMPTS)
        )
        # Taken, and its worker lost before it marked the job started.
        job = await queue.dequeue(timeout=5)
        assert job is not None
        # The sweep's first step; then the sweeping worker dies.
        await queue.abort(job, error=queue.swept_error_message)
        swept = await queue.sweep(lock=1)
        assert [key in job_id for job_id in swept] == [True]
        again = await queue.dequeue(timeout=1)
        assert again is not None
        assert again.key == key
    finally:
        await queue.disconnect()


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


def test_a_run_is_counted_on_the_metrics_of_the_process_that_executed_it(
    worked: Runs, workers: Workers
) -> None:
    def metrics() -> str:
        if worked.store == "memory":
            return scrape(worked.client.get("/metrics"))
        assert workers.module_worker is not None
        port = workers.ports[workers.module_worker.pid]
        return scrape(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5))

    before = metrics()
    run = worked.start()
    assert worked.finished(run["id"])["status"] == "succeeded"
    after = metrics()
    for sample in RUN_SAMPLES:
        assert metric_value(after, sample) - metric_value(before, sample) == 1, sample
    assert "\nagent_queue_depth " in after
    assert 'agent_runs_total{status="failed"} 0.0' in after  # every status from the start


def quick_context() -> RunContext:
    store = MemorySessionStore(max_messages=50)
    agent = Agent(FakeChatModel(), default_registry(), store, TokenBudget(store, 0), AgentLimits())
    return RunContext(run_agent(agent, 60), MemoryRunEventLog(60), store, 60)


@pytest.fixture
async def saq_runs() -> Any:
    """SaqRuns on the live store, on a queue of its own that no worker serves."""
    if not STORE_URL:
        pytest.skip("REDIS_URL is not set: no live store to test against")
    runs = SaqRuns(
        quick_context(),
        STORE_URL,
        run_timeout=60,
        visibility_timeout=30,
        name=f"test-{uuid.uuid4().hex[:12]}",
    )
    await runs.start()
    yield runs
    await runs.stop_depth_reports()
    await runs.close()


async def test_queue_depth_is_read_from_the_queue_and_a_queued_cancel_counts(
    saq_runs: SaqRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    depths: list[int] = []
    finished: list[tuple[str, float | None]] = []
    monkeypatch.setattr(observability, "set_queue_depth", depths.append)
    monkeypatch.setattr(observability, "record_run", lambda *args: finished.append(args))
    ids = [uuid.uuid4().hex for _ in range(3)]
    for run_id in ids:
        await saq_runs.submit(run_id, "owner", ChatRequest(**TOOL_MESSAGE), trace_id="")

    async def reported(depth: int) -> None:
        deadline = time.monotonic() + WAIT_S
        while not depths or depths[-1] != depth:
            assert time.monotonic() < deadline, depths
            await asyncio.sleep(0.02)

    saq_runs.start_depth_reports(every=0.02)
    await reported(3)
    await saq_runs.cancel(ids[0])
    await reported(2)
    assert finished == [("cancelled", None)]
    for run_id in ids[1:]:
        await saq_runs.cancel(run_id)
    await reported(0)
