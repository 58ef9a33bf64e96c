from __future__ import annotations

import asyncio
import signal
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from my_agent import healthcheck, lifecycle, observability, runner
from my_agent.config import Settings
from my_agent.http_bounds import BoundedHttpToolsProtocol
from my_agent.runner import DrainingServer
from my_agent.workers import available_cpus, worker_count


def cgroup(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return tmp_path


def test_cpu_count_from_cgroup_v2(tmp_path: Path) -> None:
    assert available_cpus(cgroup(tmp_path, {"cpu.max": "150000 100000\n"})) == min(
        2, available_cpus(tmp_path / "none")
    )


def test_cpu_count_unlimited_v2_falls_back_to_affinity(tmp_path: Path) -> None:
    import os

    affinity = len(os.sched_getaffinity(0))
    assert available_cpus(cgroup(tmp_path, {"cpu.max": "max 100000\n"})) == affinity
    assert available_cpus(cgroup(tmp_path / "bad", {"cpu.max": "junk\n"})) == affinity
    assert available_cpus(cgroup(tmp_path / "zero", {"cpu.max": "100 0\n"})) == affinity
    assert available_cpus(tmp_path / "missing") == affinity


def test_cpu_count_from_cgroup_v1(tmp_path: Path) -> None:
    root = cgroup(
        tmp_path,
        {"cpu,cpuacct/cpu.cfs_quota_us": "50000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"},
    )
    assert available_cpus(root) == 1
    unlimited = cgroup(
        tmp_path / "u", {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}
    )
    assert available_cpus(unlimited) >= 1


def test_worker_count_is_one_with_the_memory_store(tmp_path: Path) -> None:
    four_cpus = cgroup(tmp_path, {"cpu.max": "400000 100000\n"})
    assert worker_count(Settings(_env_file=None, workers=0), four_cpus) == 1
    assert worker_count(Settings(_env_file=None, workers=1), four_cpus) == 1


async def test_sigterm_drains_then_stops() -> None:
    server = DrainingServer(uvicorn.Config(app=None), shutdown_timeout=5)  # type: ignore[arg-type]
    server._loop = asyncio.get_running_loop()
    lifecycle.state.request_started()
    server.handle_exit(signal.SIGTERM, None)
    assert lifecycle.state.draining
    await asyncio.sleep(0.1)
    assert not server.should_exit  # a request is still in flight
    server.handle_exit(signal.SIGTERM, None)  # a second SIGTERM changes nothing
    assert not server.force_exit
    lifecycle.state.request_finished()
    await asyncio.sleep(0.2)
    assert server.should_exit
    assert server._captured_signals == []  # so uvicorn does not re-raise it: exit status 0


async def test_drain_timeout_and_forced_exit() -> None:
    server = DrainingServer(uvicorn.Config(app=None), shutdown_timeout=0.05)  # type: ignore[arg-type]
    server._loop = asyncio.get_running_loop()
    lifecycle.state.request_started()
    server.handle_exit(signal.SIGTERM, None)
    await asyncio.sleep(0.3)
    assert server.should_exit
    server.handle_exit(signal.SIGINT, None)
    assert server.force_exit


def test_signal_before_the_loop_runs() -> None:
    server = DrainingServer(uvicorn.Config(app=None), shutdown_timeout=1)  # type: ignore[arg-type]
    server.handle_exit(signal.SIGINT, None)
    assert server.should_exit


def test_main_runs_one_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKERS", "1")
    calls: list[Any] = []
    monkeypatch.setattr(runner, "serve", calls.append)
    monkeypatch.setattr(runner, "configure_logging", lambda *a, **k: None)
    monkeypatch.setattr(observability, "prepare_process_tree", lambda settings: None)
    assert runner.main() == 0
    assert calls[0].workers == 1
    config = runner.uvicorn_config(calls[0])
    assert config.factory
    assert config.http is BoundedHttpToolsProtocol  # httptools, with the connection bounds
    assert not config.proxy_headers  # FORWARDED_ALLOW_IPS is empty by default


def test_serve_builds_a_draining_server(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[DrainingServer] = []
    monkeypatch.setattr(DrainingServer, "run", lambda self, sockets=None: ran.append(self))
    runner.serve(Settings(_env_file=None, shutdown_timeout=7))
    assert ran[0].shutdown_timeout == 7


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


def test_healthcheck(monkeypatch: pytest.MonkeyPatch) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        monkeypatch.setenv("PORT", str(port))
        assert healthcheck.main() == 0
    finally:
        server.shutdown()
    assert healthcheck.main() == 1  # nothing listens any more
    monkeypatch.setenv("PORT", "not-a-port")
    assert healthcheck.main() == 1


async def test_wait_idle() -> None:
    state = lifecycle.Lifecycle()
    assert await state.wait_idle(0.1)
    state.request_started()
    assert not await state.wait_idle(0.05, poll_interval=0.01)
    state.request_finished()
    state.request_finished()
    assert state.in_flight == 0
    assert state.uptime_seconds() >= 0


def test_python_dash_m_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy

    monkeypatch.setattr(runner, "main", lambda: 0)
    with pytest.raises(SystemExit) as caught:
        runpy.run_module("my_agent", run_name="__main__")
    assert caught.value.code == 0
