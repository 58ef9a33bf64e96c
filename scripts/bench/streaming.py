"""The streaming relay of `npm run bench` (scripts/bench/streaming.mjs).

    python streaming.py PROJECT_DIR PKG PORT_BASE SECONDS   # prints one line: BENCH_JSON {...}
    python streaming.py upstream PORT TOKENS INTERVAL_MS    # the mock model endpoint alone

The generated service (one worker, WORKERS=1) relays /v1/chat/stream from a mock
OpenAI-compatible endpoint that streams TOKENS chunks, one per INTERVAL_MS, with
chunked keep-alive responses. The clients are raw asyncio connections (one
HTTP/1.1 request per connection, read to the end), so that the load generator
costs little and has no pool of its own. Measured:

- closed loops of C streams (each client opens the next stream when its last
  ended): streams/s, time to first token (TTFT) p50/p99 and the service's CPU
  time per relayed token (utime + stime of its process over the load);
- N streams opened at once: how many completed, were refused (a 503 with its
  code, or the connection closed at once past MAX_CONNECTIONS), or failed
  (anything else: a timeout, a stall, a broken stream), and how fast the refusals came.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

TOKENS = 50
INTERVAL_MS = 20
STREAM_TIMEOUT_S = 30.0
BODY = json.dumps({"message": "stream me fifty tokens"}).encode()


# --- the mock upstream -----------------------------------------------------------------------


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def _upstream_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tokens: int, interval: float
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            await reader.readexactly(length)
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for index in range(tokens):
                await asyncio.sleep(interval)
                event = {"choices": [{"index": 0, "delta": {"content": f"tok{index} "}}]}
                writer.write(_chunk(b"data: " + json.dumps(event).encode() + b"\n\n"))
            last = {
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 20, "completion_tokens": tokens},
            }
            writer.write(_chunk(b"data: " + json.dumps(last).encode() + b"\n\n"))
            writer.write(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve_upstream(port: int, tokens: int, interval_ms: int) -> None:
    server = await asyncio.start_server(
        lambda r, w: _upstream_connection(r, w, tokens, interval_ms / 1000),
        "127.0.0.1",
        port,
        backlog=4096,
    )
    async with server:
        await server.serve_forever()


# --- the clients -----------------------------------------------------------------------------


async def one_stream(
    port: int, token: bytes = b"event: token", done: bytes = b"event: done"
) -> dict[str, object]:
    """One stream: its outcome, time to first token and total time (seconds)."""
    started = time.perf_counter()
    result: dict[str, object] = {"outcome": "failed", "ttft": None, "total": None}
    writer = None
    try:
        async with asyncio.timeout(STREAM_TIMEOUT_S):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST %s HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (b"/v1/chat/stream", len(BODY), BODY)
            )
            status_line = await reader.readline()
            if not status_line:
                result["outcome"] = "refused_connection"
                return result
            status = int(status_line.split()[1])
            if status != 200:
                rest = await reader.read()
                code = "?"
                try:
                    code = json.loads(rest.split(b"\r\n\r\n", 1)[1])["error"]["code"]
                except (ValueError, KeyError, IndexError):
                    pass
                result["outcome"] = f"refused_{status}_{code}"
                return result
            seen = b""
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if result["ttft"] is None and token in data:
                    result["ttft"] = time.perf_counter() - started
                seen = (seen + data)[-4096:]
                if done in seen or b"event: error" in seen:
                    break
            result["outcome"] = "completed" if done in seen else "failed"
    except TimeoutError:  # before OSError, its base class
        result["outcome"] = "timed_out"
    except (ConnectionError, OSError):
        result["outcome"] = "refused_connection"
    finally:
        result["total"] = time.perf_counter() - started
        if writer is not None:
            writer.close()
    return result


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def closed_loop(
    port: int, clients: int, seconds: float, pid: int, markers: tuple[bytes, bytes] | None = None
) -> dict[str, object]:
    deadline = time.perf_counter() + seconds
    results: list[dict[str, object]] = []

    async def client() -> None:
        while time.perf_counter() < deadline:
            results.append(await one_stream(port, *(markers or ())))

    cpu0, t0 = _cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    cpu, wall = _cpu_seconds(pid) - cpu0, time.perf_counter() - t0
    return _summary(results, wall, cpu) | {"clients": clients}


async def burst(port: int, streams: int, pid: int) -> dict[str, object]:
    cpu0, t0 = _cpu_seconds(pid), time.perf_counter()
    results = await asyncio.gather(*(one_stream(port) for _ in range(streams)))
    cpu, wall = _cpu_seconds(pid) - cpu0, time.perf_counter() - t0
    return _summary(list(results), wall, cpu) | {"streams": streams}


def _summary(results: list[dict[str, object]], wall: float, cpu: float) -> dict[str, object]:
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[str(r["outcome"])] = outcomes.get(str(r["outcome"]), 0) + 1
    done = [r for r in results if r["outcome"] == "completed"]
    refused = [r for r in results if str(r["outcome"]).startswith("refused")]
    ttfts = [float(r["ttft"]) for r in done if r["ttft"] is not None]  # type: ignore[arg-type]
    completed = len(done)
    return {
        "outcomes": outcomes,
        "completed": completed,
        "wall_s": round(wall, 2),
        "streams_per_s": round(completed / wall, 1) if wall else None,
        "ttft_p50_ms": _ms(_pct(ttfts, 0.5)),
        "ttft_p99_ms": _ms(_pct(ttfts, 0.99)),
        "refusal_p99_ms": _ms(_pct([float(r["total"]) for r in refused], 0.99)),  # type: ignore[arg-type]
        "slowest_ms": _ms(max((float(r["total"]) for r in results), default=None)),  # type: ignore[arg-type]
        "service_cpu_s": round(cpu, 2),
        "cpu_us_per_token": round(cpu * 1e6 / (completed * TOKENS), 1) if completed else None,
    }


# --- the run ---------------------------------------------------------------------------------


def _wait_ok(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


async def measure(project: str, pkg: str, port_base: int, seconds: float) -> dict[str, object]:
    upstream_port, service_port = port_base, port_base + 1
    upstream = subprocess.Popen(
        [sys.executable, __file__, "upstream", str(upstream_port), str(TOKENS), str(INTERVAL_MS)]
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "VIRTUAL_ENV"))},
        "HOST": "127.0.0.1",
        "PORT": str(service_port),
        "WORKERS": "1",
        "ENVIRONMENT": "development",
        "LLM_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
        "LLM_API_KEY": "bench",
        "LLM_MODEL": "mock",
    }
    service = subprocess.Popen(
        [os.path.join(project, ".venv/bin/python"), "-m", pkg],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        if not _wait_ok(f"http://127.0.0.1:{service_port}/health", 60):
            raise RuntimeError("the service did not answer /health")
        await asyncio.sleep(0.5)
        out: dict[str, object] = {}
        # The mock endpoint alone, at the lighter load: its own time to first token.
        out["upstream_alone_c100"] = await closed_loop(
            upstream_port, 100, seconds, upstream.pid, (b"data: {", b"data: [DONE]")
        )
        await one_stream(service_port)  # warm-up
        for clients in (100, 240):
            out[f"closed_c{clients}"] = await closed_loop(service_port, clients, seconds, service.pid)
        for streams in (500, 2000):
            await asyncio.sleep(1.5)
            out[f"burst_{streams}"] = await burst(service_port, streams, service.pid)
        return out
    finally:
        for proc in (service, upstream):
            proc.send_signal(signal.SIGINT)
        for proc in (service, upstream):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _raise_open_files() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))


def _run(main: object) -> object:
    try:
        import uvloop  # the generated project's environment has it (uvicorn's loop)

        return uvloop.run(main)  # type: ignore[arg-type]
    except ImportError:
        return asyncio.run(main)  # type: ignore[arg-type]


if __name__ == "__main__":
    _raise_open_files()
    if sys.argv[1] == "upstream":
        try:
            _run(serve_upstream(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
        except KeyboardInterrupt:
            pass
    else:
        project, pkg, port_base, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        print("BENCH_JSON " + json.dumps(_run(measure(project, pkg, port_base, secs))))
