"""The real server, as ``make run`` starts it: ``python -m triage_agent`` in a child process."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[str]
    base_url: str

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        # A new connection per request, so several workers would each get some.
        response = httpx.post(self.base_url + path, json=body, timeout=10)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def stop(self, *signals: signal.Signals) -> tuple[int, str]:
        """Send each signal to the process group, as a terminal's Ctrl-C does; exit code and output."""
        for sig in signals:
            os.killpg(self.process.pid, sig)
            time.sleep(0.05)
        output, _ = self.process.communicate(timeout=60)
        return self.process.returncode, output


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    started: list[Server] = []

    def start(**env: str) -> Server:
        port = free_port()
        environment = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "triage_agent"],
            cwd=tmp_path,  # no .env here
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
        server = Server(process, f"http://127.0.0.1:{port}")
        started.append(server)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}: {process.stdout}")
            try:
                if httpx.get(server.base_url + "/ready", timeout=2).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"the server was not ready after {START_TIMEOUT_S} s")

    yield start
    for server in started:
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.communicate()


def test_memory_store_runs_one_worker_so_a_session_grows_by_one_turn(start_server: Any) -> None:
    # WORKERS=0 would mean one worker per CPU; with the memory store it must be one,
    # or one session's turns alternate between the workers' separate histories.
    server = start_server(WORKERS="0", SESSION_STORE="memory")
    first = server.post("/v1/chat", {"message": "hello"})
    session_id = first["session_id"]
    tokens = [first["usage"]["input_tokens"]]
    for _ in range(7):
        turn = server.post("/v1/chat", {"message": "hello", "session_id": session_id})
        assert turn["session_id"] == session_id
        tokens.append(turn["usage"]["input_tokens"])
    steps = {later - earlier for earlier, later in itertools.pairwise(tokens)}
    assert len(steps) == 1, tokens  # the same turn added to one history each time
    assert steps.pop() > 0, tokens
    code, output = server.stop(signal.SIGTERM)
    assert code == 0
    assert '"workers": 1' in output


def test_sigint_exits_0_without_a_traceback(start_server: Any) -> None:
    server = start_server(WORKERS="0")
    code, output = server.stop(signal.SIGINT)
    assert code == 0, output
    assert "Traceback" not in output
    assert "CancelledError" not in output


def test_a_second_sigint_stops_at_once_and_still_cleanly(start_server: Any) -> None:
    # Ctrl-C twice (or a terminal's SIGINT plus a forwarded one): stop without
    # waiting for requests in flight, but still run the application's shutdown.
    server = start_server(WORKERS="0")
    code, output = server.stop(signal.SIGINT, signal.SIGINT)
    assert code == 0, output
    assert "Traceback" not in output
    assert "CancelledError" not in output
    assert "second SIGINT" in output
    assert '"event": "stopped"' in output


STORE_URL = os.environ.get("REDIS_URL", "")


@pytest.mark.skipif(not STORE_URL, reason="REDIS_URL is not set: no live Redis")
def test_sigint_with_several_workers_drains_each_once(start_server: Any) -> None:
    # A terminal's Ctrl-C reaches the supervisor and every worker: the supervisor
    # must not add a second SIGINT (a forced stop) to the one each worker got.
    server = start_server(WORKERS="2", SESSION_STORE="redis")
    code, output = server.stop(signal.SIGINT)
    assert code == 0, output
    assert "Traceback" not in output
    assert "second SIGINT" not in output  # each worker drained, none was forced
    assert output.count('"event": "drained, stopping"') == 2, output
