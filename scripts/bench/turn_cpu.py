"""The CPU of one /v1/chat turn, for the streaming group of `npm run bench`.

    python turn_cpu.py PORT SECONDS NAME=DIR:PKG|hello ...   # prints BENCH_JSON {...}

Each service (one worker, the fake model, every setting at its default) and the
bare FastAPI app (scripts/bench/hello_app.py, run with the first project's
interpreter) is loaded in turn with ``wrk -t1 -c32`` on POST /v1/chat; its
process's utime + stime over the load, divided by the requests, is the CPU of
one turn. On a shared machine req/s move with the other load; the CPU per
request moves much less, so its ratio to the bare app's is the turn's cost.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BODY = json.dumps({"message": "hello there, how are you today?"})


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ok(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def wrk(port: int, seconds: int) -> dict[str, float]:
    env = {**os.environ, "BENCH_METHOD": "POST", "BENCH_BODY": BODY}
    args = ["wrk", "-t1", "-c32", f"-d{seconds}s", "--timeout", "10s"]
    args += ["-s", os.path.join(HERE, "wrk-report.lua"), f"http://127.0.0.1:{port}/v1/chat"]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=False).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    result: dict[str, float] = json.loads(line[len("BENCH_JSON ") :])
    return result


def measure(port: int, seconds: int, cmd: list[str], cwd: str) -> dict[str, float | None]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "VIRTUAL_ENV"))},
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "1",
        "ENVIRONMENT": "development",
        "FAKE_LLM_LATENCY_MS": "0",
    }
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    try:
        if not wait_ok(f"http://127.0.0.1:{port}/health", 60):
            raise RuntimeError(f"{cmd} did not answer /health")
        wrk(port, 1)  # warm-up
        cpu0 = cpu_seconds(proc.pid)
        r = wrk(port, seconds)
        cpu = cpu_seconds(proc.pid) - cpu0
        return {
            "rps": round(r["rps"], 1),
            "p50ms": round(r["p50_us"] / 1000, 2),
            "p99ms": round(r["p99_us"] / 1000, 2),
            "non2xx": r["non2xx"],
            "cpuUsPerRequest": round(cpu * 1e6 / r["requests"], 1) if r["requests"] else None,
        }
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    port, seconds = int(sys.argv[1]), int(sys.argv[2])
    targets = [arg.split("=", 1) for arg in sys.argv[3:]]
    first_project = next(spec.split(":")[0] for _, spec in targets if spec != "hello")
    out: dict[str, object] = {}
    for index, (name, spec) in enumerate(targets):
        if spec == "hello":
            python = os.path.join(first_project, ".venv/bin/python")
            cmd, cwd = [python, os.path.join(HERE, "hello_app.py")], first_project
        else:
            project, pkg = spec.split(":")
            cmd, cwd = [os.path.join(project, ".venv/bin/python"), "-m", pkg], project
        out[name] = measure(port + index, seconds, cmd, cwd)
    print("BENCH_JSON " + json.dumps(out))


if __name__ == "__main__":
    main()
