"""The otel stack's metric updates per /v1/chat turn: the SDK's instruments vs the service's own.

Run with a generated otel project's interpreter, from that project's root
(``scripts/bench/instruments.mjs`` does). Prints one JSON object. CPU time
(``time.process_time``), interleaved rounds: the machine is shared.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import sys
import time

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
UPDATES = int(os.environ.get("BENCH_UPDATES", "20000"))
TURNS = int(os.environ.get("BENCH_TURNS", "2000"))


def median(xs: list[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2]


def metric_updates(pkg: str) -> dict[str, float]:
    """The eight updates of one fake-model turn (two requests-gauge moves, three
    counter adds with labels, two token adds, two histogram records)."""
    from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    contract = importlib.import_module(f"{pkg}.observability_contract")
    state = importlib.import_module(f"{pkg}.observability._state")
    histograms = importlib.import_module(f"{pkg}.observability._histograms")

    def provider() -> MeterProvider:
        return MeterProvider(
            metric_readers=[InMemoryMetricReader()], exemplar_filter=AlwaysOffExemplarFilter()
        )

    meter = provider().get_meter("bench")
    sdk = {
        spec.name: (
            meter.create_histogram(
                spec.name, unit=spec.unit, explicit_bucket_boundaries_advisory=spec.buckets
            )
            if spec.kind == "histogram"
            else meter.create_up_down_counter(spec.name)
            if spec.kind == "updown"
            else meter.create_counter(spec.name)
        )
        for spec in contract.METRICS
        if spec.kind != "gauge"
    }

    def sdk_turn() -> None:
        sdk["agent_active_requests"].add(1)
        sdk["agent_llm_calls_total"].add(1, {"model": "fake", "status": "ok"})
        sdk["agent_llm_call_duration_seconds"].record(0.003, {"model": "fake"})
        sdk["agent_tokens_total"].add(33, {"model": "fake", "type": "input"})
        sdk["agent_tokens_total"].add(12, {"model": "fake", "type": "output"})
        sdk["agent_active_requests"].add(-1)
        sdk["agent_requests_total"].add(1, {"route": "/v1/chat", "method": "POST", "status": "200"})
        sdk["agent_request_duration_seconds"].record(0.004, {"route": "/v1/chat", "method": "POST"})

    own = state.Instruments(provider().get_meter("bench"), histograms.Histograms())

    def own_turn() -> None:
        own.active_requests.add(1)
        own.llm_calls.add(1, "fake", "ok")
        own.record_llm_call_duration(0.003, "fake")
        own.tokens.add(33, "fake", "input")
        own.tokens.add(12, "fake", "output")
        own.active_requests.add(-1)
        own.requests.add(1, "/v1/chat", "POST", "200")
        own.record_request_duration(0.004, "/v1/chat", "POST")

    runs: dict[str, list[float]] = {"sdk": [], "own": []}
    funcs = {"sdk": sdk_turn, "own": own_turn}
    for r in range(ROUNDS):
        for name in ("sdk", "own") if r % 2 == 0 else ("own", "sdk"):
            f = funcs[name]
            t = time.process_time()
            for _ in range(UPDATES):
                f()
            runs[name].append((time.process_time() - t) / UPDATES * 1e6)
    return {"sdkUs": round(median(runs["sdk"]), 2), "ownUs": round(median(runs["own"]), 2)}


async def turn_cpu(pkg: str) -> float:
    """CPU per /v1/chat turn through the whole ASGI app, in process (no HTTP server)."""
    app_module = importlib.import_module(f"{pkg}.api.app")
    app = app_module.create_app()
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    await queue.put({"type": "lifespan.startup"})
    sent: list[dict[str, str]] = []

    async def lifespan_send(message: dict[str, str]) -> None:
        sent.append(message)

    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, queue.get, lifespan_send)
    )
    while not sent:
        await asyncio.sleep(0.01)
    logging.getLogger("access").disabled = True
    body = json.dumps({"message": "hello there"}).encode()

    async def one() -> None:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/v1/chat", "raw_path": b"/v1/chat", "query_string": b"",
            "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            "state": {},
        }  # fmt: skip
        delivered = False

        async def receive() -> dict[str, object]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        statuses: list[int] = []

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))  # type: ignore[call-overload]

        await app(scope, receive, send)
        if statuses != [200]:
            raise RuntimeError(f"/v1/chat answered {statuses}")

    for _ in range(200):
        await one()
    runs = []
    for _ in range(5):
        t = time.process_time()
        for _ in range(TURNS):
            await one()
        runs.append((time.process_time() - t) / TURNS * 1e6)
    await queue.put({"type": "lifespan.shutdown"})
    await lifespan
    return round(median(runs), 1)


def main() -> None:
    pkg = sys.argv[1]
    sys.path.insert(0, "src")
    updates = metric_updates(pkg)
    turn = asyncio.run(turn_cpu(pkg))
    extra = updates["sdkUs"] - updates["ownUs"]
    print(
        json.dumps(
            {
                **updates,
                "turnUs": turn,
                # the share of /v1/chat throughput the SDK's instruments would cost
                "sdkThroughputCostPct": round(100 * extra / (turn + extra), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
