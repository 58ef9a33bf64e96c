"""Group "servers" of `npm run bench`: the generated service's app under each candidate HTTP server.

Run with the generated project's interpreter (with granian and hypercorn installed
beside it); prints one ``BENCH_JSON {...}`` line. Every attack is bounded in time
and bytes, loopback only:

- head16mb: one complete request with a 16 MB header: the status, or "closed"
- bomb: 20 connections each sending up to 16 MB of one unfinished header;
  server RSS (process tree) before, peak, 2 s after they are closed; header bytes
  the server took per connection before it hung up
- slowloris: N connections sending one header line every 2 s: how many the server
  has closed after 20 s, and when the last one closed
- idle: N connections sending nothing: the same
- endless body: a chunked POST /v1/chat sending a chunk every 0.5 s: the status and
  when it came (or nothing within the window)
- malformed: negative Content-Length, Content-Length and Transfer-Encoding, a space in a
  header name: status and content type
- throughput: wrk -t1 -c32 POST /v1/chat (fake model), requests per second; measured
  after the attacks, every candidate in turn in each round (side by side), the median
- drain: 20 /v1/chat in flight (fake model, 2 s each), SIGTERM: how many ended 200,
  the exit status, seconds to exit; then SIGTERM with an endless body in flight: seconds
  to exit (killed after 40 s)

    python servers.py PROJECT_DIR PKG PORT_BASE SECONDS ROUNDS [CANDIDATE...]
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

MB = 1024 * 1024
BOMB_CONNECTIONS = 20
BOMB_BYTES = 16 * MB
WINDOW_S = 20.0
SLOW_CONNECTIONS = 200
IDLE_CONNECTIONS = 100
DRAIN_REQUESTS = 20
CHAT = b'{"message": "hello there, how are you today?"}'


def candidates(pkg: str, port: int, bin_dir: Path, work: Path) -> dict[str, list[str]]:
    py = str(bin_dir / "python")
    app = f"{pkg}.api:create_app"
    uvicorn = [
        py,
        "-m",
        "uvicorn",
        app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    uvicorn += ["--loop", "uvloop", "--no-access-log", "--timeout-keep-alive", "5"]
    hypercorn_toml = work / "hypercorn.toml"
    hypercorn_toml.write_text("h11_max_incomplete_size = 16384\n")
    return {
        "uvicorn-httptools-bounded": [py, "-m", pkg],
        "uvicorn-httptools": [*uvicorn, "--http", "httptools"],
        # The bounded protocol alone, without the runner (its logging, drain, settings).
        "uvicorn-httptools-bounded-cli": [
            *uvicorn,
            "--http",
            f"{pkg}.http_bounds:BoundedHttpToolsProtocol",
            "--no-proxy-headers",
        ],
        "uvicorn-httptools-cli-no-proxy": [
            *uvicorn,
            "--http",
            "httptools",
            "--no-proxy-headers",
        ],
        "uvicorn-h11": [
            *uvicorn,
            "--http",
            "h11",
            "--h11-max-incomplete-event-size",
            "16384",
        ],
        "granian": [
            str(bin_dir / "granian"),
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--http",
            "1",
            "--http1-buffer-size",
            "16384",
            "--http1-header-read-timeout",
            "10000",
            "--workers-kill-timeout",
            "25",
            "--no-log",
            app,
        ],
        "hypercorn": [
            str(bin_dir / "hypercorn"),
            "-k",
            "uvloop",
            "-b",
            f"127.0.0.1:{port}",
            "--keep-alive",
            "5",
            "--read-timeout",
            "10",
            "--graceful-timeout",
            "25",
            "-c",
            str(hypercorn_toml),
            f"{app}()",
        ],
    }


def tree_rss_kb(pid: int) -> int:
    """Resident set size of ``pid`` and its descendants, in KiB."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def wait_ready(port: int, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited {proc.returncode}")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/health", timeout=1
            ) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server not ready")


async def read_status(
    reader: asyncio.StreamReader, within: float
) -> tuple[int | str, str]:
    try:
        async with asyncio.timeout(within):
            head = await reader.readuntil(b"\r\n\r\n")
    except TimeoutError:
        return "no answer", ""
    except (asyncio.IncompleteReadError, ConnectionError):
        return "closed", ""
    lines = head.decode("latin-1").split("\r\n")
    ctype = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in lines
            if ln.lower().startswith("content-type:")
        ),
        "",
    )
    return int(lines[0].split()[1]), ctype


async def open_conn(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, limit=4 * MB)


async def head16mb(port: int) -> int | str:
    reader, writer = await open_conn(port)
    try:
        writer.write(b"GET /health HTTP/1.1\r\nHost: b\r\nX-Big: ")
        sent = 0
        while sent < BOMB_BYTES:
            writer.write(b"a" * 65536)
            await writer.drain()
            sent += 65536
        writer.write(b"\r\n\r\n")
        await writer.drain()
    except ConnectionError:
        pass
    status, _ = await read_status(reader, 10)
    writer.close()
    return status


async def bomb(port: int, pid: int) -> dict[str, Any]:
    before = tree_rss_kb(pid)
    peak = before
    sent = [0] * BOMB_CONNECTIONS
    conns = [await open_conn(port) for _ in range(BOMB_CONNECTIONS)]

    async def one(i: int) -> None:
        _, writer = conns[i]
        try:
            writer.write(b"GET /health HTTP/1.1\r\nHost: b\r\nX-Bomb: ")
            while sent[i] < BOMB_BYTES:
                writer.write(b"a" * 65536)
                await asyncio.wait_for(writer.drain(), 5)
                sent[i] += 65536
        except (ConnectionError, TimeoutError):
            pass

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, tree_rss_kb(pid))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(one(i) for i in range(BOMB_CONNECTIONS)))
    await asyncio.sleep(1)
    sampler.cancel()
    peak = max(peak, tree_rss_kb(pid))
    for _, writer in conns:
        writer.close()
    await asyncio.sleep(2)
    after = tree_rss_kb(pid)
    return {
        "rss_mb": [
            round(before / 1024, 1),
            round(peak / 1024, 1),
            round(after / 1024, 1),
        ],
        "growth_mb": round((peak - before) / 1024, 1),
        "max_taken_mb": round(max(sent) / MB, 2),
    }


async def watch_closed(
    readers: list[asyncio.StreamReader], t0: float
) -> list[float | None]:
    closed: list[float | None] = [None] * len(readers)

    async def one(i: int) -> None:
        try:
            async with asyncio.timeout(WINDOW_S):
                while await readers[i].read(65536):
                    pass
        except TimeoutError:
            return
        except ConnectionError:
            pass
        closed[i] = time.monotonic() - t0

    await asyncio.gather(*(one(i) for i in range(len(readers))))
    return closed


def closed_summary(closed: list[float | None]) -> dict[str, Any]:
    done = [c for c in closed if c is not None]
    return {
        "closed": len(done),
        "of": len(closed),
        "last_s": round(max(done), 1) if done else None,
    }


async def slowloris(port: int) -> dict[str, Any]:
    conns = []
    for _ in range(SLOW_CONNECTIONS):
        try:
            conns.append(await open_conn(port))
        except OSError:
            break
    t0 = time.monotonic()

    async def trickle() -> None:
        i = 0
        for _, writer in conns:
            writer.write(b"GET /health HTTP/1.1\r\n")
        while True:
            await asyncio.sleep(2)
            for _, writer in conns:
                if not writer.is_closing():
                    try:
                        writer.write(f"X-S{i}: 1\r\n".encode())
                    except ConnectionError:
                        pass
            i += 1

    task = asyncio.create_task(trickle())
    closed = await watch_closed([r for r, _ in conns], t0)
    task.cancel()
    for _, writer in conns:
        writer.close()
    summary = closed_summary(closed)
    summary["of"] = SLOW_CONNECTIONS
    return summary


async def idle(port: int) -> dict[str, Any]:
    conns = []
    for _ in range(IDLE_CONNECTIONS):
        try:
            conns.append(await open_conn(port))
        except OSError:
            break
    closed = await watch_closed([r for r, _ in conns], time.monotonic())
    for _, writer in conns:
        writer.close()
    summary = closed_summary(closed)
    summary["of"] = IDLE_CONNECTIONS
    return summary


async def endless_body(port: int, within: float = WINDOW_S) -> dict[str, Any]:
    reader, writer = await open_conn(port)
    t0 = time.monotonic()
    writer.write(
        b"POST /v1/chat HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n"
    )

    async def trickle() -> None:
        while True:
            await asyncio.sleep(0.5)
            try:
                writer.write(b"1\r\n \r\n")
            except ConnectionError:
                return

    task = asyncio.create_task(trickle())
    status, _ = await read_status(reader, within)
    task.cancel()
    writer.close()
    return {"status": status, "after_s": round(time.monotonic() - t0, 1)}


async def malformed(port: int) -> dict[str, Any]:
    cases = {
        "negative_cl": b"POST /v1/chat HTTP/1.1\r\nHost: b\r\nContent-Length: -1\r\n\r\n",
        "cl_and_te": b"POST /v1/chat HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "space_in_name": b"GET /health HTTP/1.1\r\nHost: b\r\nBad Name: x\r\n\r\n",
    }
    out = {}
    for name, raw in cases.items():
        reader, writer = await open_conn(port)
        writer.write(raw)
        status, ctype = await read_status(reader, 5)
        out[name] = f"{status} {ctype.split(';')[0]}".strip()
        writer.close()
    return out


def throughput(port: int, seconds: int, root: Path) -> float:
    env = {**os.environ, "BENCH_METHOD": "POST", "BENCH_BODY": CHAT.decode()}
    args = ["wrk", "-t1", "-c32", f"-d{seconds}s", "--timeout", "10s"]
    args += [
        "-s",
        str(root / "scripts/bench/wrk-report.lua"),
        f"http://127.0.0.1:{port}/v1/chat",
    ]
    out = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    if data["non2xx"]:
        raise RuntimeError(f"wrk saw {data['non2xx']} non-2xx answers")
    return round(float(data["rps"]), 1)


async def chat(port: int) -> int | str:
    reader, writer = await open_conn(port)
    writer.write(
        b"POST /v1/chat HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(CHAT)}\r\nConnection: close\r\n\r\n".encode()
        + CHAT
    )
    status, _ = await read_status(reader, 30)
    writer.close()
    return status


def exit_within(
    proc: subprocess.Popen[bytes], t0: float, limit: float
) -> tuple[int | str, float]:
    try:
        code: int | str = proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = "killed"
    return code, round(time.monotonic() - t0, 1)


async def drain(proc: subprocess.Popen[bytes], port: int) -> dict[str, Any]:
    tasks = [asyncio.create_task(chat(port)) for _ in range(DRAIN_REQUESTS)]
    await asyncio.sleep(0.7)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    statuses = await asyncio.gather(*tasks)
    code, secs = await asyncio.to_thread(exit_within, proc, t0, 40)
    return {
        "ok": sum(1 for s in statuses if s == 200),
        "of": DRAIN_REQUESTS,
        "exit": code,
        "exit_s": secs,
    }


async def sigterm_with_endless_body(
    proc: subprocess.Popen[bytes], port: int
) -> dict[str, Any]:
    body = asyncio.create_task(endless_body(port, within=45))
    await asyncio.sleep(1)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code, secs = await asyncio.to_thread(exit_within, proc, t0, 40)
    body.cancel()
    return {"exit": code, "exit_s": secs}


def start(
    cmd: list[str], cwd: Path, env: dict[str, str], port: int, log: Path
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    wait_ready(port, proc)
    return proc


async def measure(
    name: str, cmd: list[str], project: Path, port: int, work: Path
) -> dict[str, Any]:
    env = service_env(port)
    log = work / f"{name}.log"
    result: dict[str, Any] = {}
    proc = start(cmd, project, env, port, log)
    try:
        result["head16mb"] = await head16mb(port)
        result["bomb"] = await bomb(port, proc.pid)
        slow, idle_, body = await asyncio.gather(
            slowloris(port), idle(port), endless_body(port)
        )
        result.update(slowloris=slow, idle=idle_, endless_body=body)
        result["malformed"] = await malformed(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        exit_within(proc, time.monotonic(), 30)
    proc = start(cmd, project, {**env, "FAKE_LLM_LATENCY_MS": "2000"}, port, log)
    result["drain"] = await drain(proc, port)
    proc = start(cmd, project, env, port, log)
    result["sigterm_endless_body"] = await sigterm_with_endless_body(proc, port)
    return result


def service_env(port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "VIRTUAL_ENV"))
    }
    env.update(
        {"HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1", "LOG_LEVEL": "warning"}
    )
    env["ENVIRONMENT"] = "development"
    return env


def throughput_rounds(
    runs: dict[str, tuple[list[str], int]],
    project: Path,
    seconds: int,
    rounds: int,
    work: Path,
) -> dict[str, list[float]]:
    root = Path(__file__).resolve().parents[2]
    rps: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (cmd, port) in runs.items():
            proc = start(cmd, project, service_env(port), port, work / f"{name}.log")
            try:
                throughput(port, 1, root)  # warm-up
                rps[name].append(throughput(port, seconds, root))
            finally:
                proc.send_signal(signal.SIGTERM)
                exit_within(proc, time.monotonic(), 30)
    return rps


async def main() -> None:
    project, pkg, port_base = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    seconds, rounds = int(sys.argv[4]), int(sys.argv[5])
    wanted = sys.argv[6:]
    bin_dir = project / ".venv" / "bin"
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cas-servers-") as tmp:
        work = Path(tmp)
        runs: dict[str, tuple[list[str], int]] = {}
        for i, (name, cmd) in enumerate(
            candidates(pkg, port_base, bin_dir, work).items()
        ):
            if wanted and name not in wanted:
                continue
            port = port_base + i
            runs[name] = ([port_arg(a, port_base, port) for a in cmd], port)
        for name, (cmd, port) in runs.items():
            try:
                results[name] = await measure(name, cmd, project, port, work)
            except Exception as error:  # noqa: BLE001 (one candidate failing must not hide the others)
                results[name] = {"error": f"{type(error).__name__}: {error}"}
            print(
                f"servers: {name}: {json.dumps(results[name])}",
                file=sys.stderr,
                flush=True,
            )
        ok = {name: run for name, run in runs.items() if "error" not in results[name]}
        rps = await asyncio.to_thread(
            throughput_rounds, ok, project, seconds, rounds, work
        )
        for name, values in rps.items():
            results[name]["chat_rps_rounds"] = values
            results[name]["chat_rps"] = round(statistics.median(values), 1)
    print("BENCH_JSON " + json.dumps(results), flush=True)


def port_arg(arg: str, base: int, port: int) -> str:
    return arg.replace(str(base), str(port)) if str(base) in arg else arg


if __name__ == "__main__":
    asyncio.run(main())
