"""The server runner behind ``python -m lite_agent_with_the_longest_allowed_name``.

uvicorn with uvloop and httptools. ``WORKERS=0`` picks the worker count from
the CPU quota the container really has (cgroup v2 ``cpu.max`` or v1 CFS quota),
falling back to the CPUs this process may run on.

SIGTERM (and the first SIGINT), in each worker: ``/ready`` turns 503 at once,
the listening socket stays open, new agent requests get 503 ``shutting_down``,
requests and streams in flight run to completion; when none is left, or after
``SHUTDOWN_TIMEOUT``, the worker exits 0. With several workers the supervisor
forwards the signal to every worker and exits 0 once they have all finished.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from . import lifecycle, observability
from .config import Settings, load_settings
from .logging import configure_logging

logger = logging.getLogger("lite_agent_with_the_longest_allowed_name.server")

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _cgroup_v2_quota(root: Path) -> float | None:
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def _cgroup_v1_quota(root: Path) -> float | None:
    for directory in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        base = root / directory
        try:
            quota = int((base / "cpu.cfs_quota_us").read_text())
            period = int((base / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        if quota > 0 and period > 0:
            return quota / period
        return None
    return None


def available_cpus(root: Path = CGROUP_ROOT) -> int:
    """CPUs this process may use: the cgroup quota when there is one, else its affinity."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover (not Linux)
        affinity = os.cpu_count() or 1
    quota = _cgroup_v2_quota(root)
    if quota is None:
        quota = _cgroup_v1_quota(root)
    if quota is None:
        return max(1, affinity)
    return max(1, min(affinity, math.ceil(quota)))


def worker_count(settings: Settings, root: Path = CGROUP_ROOT) -> int:
    if settings.workers > 0:
        return settings.workers
    # The memory store lives in one process: several workers would split each
    # session between them (a turn would often not see the previous one).
    if settings.session_store == "memory":
        return 1
    return available_cpus(root)


class DrainingServer(uvicorn.Server):
    """uvicorn's server with the contract's drain on SIGTERM instead of a hard stop."""

    def __init__(self, config: uvicorn.Config, shutdown_timeout: float) -> None:
        super().__init__(config)
        self.shutdown_timeout = shutdown_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain_task: asyncio.Task[None] | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Not recorded in _captured_signals: uvicorn would re-raise the signal
        # after shutdown and the process would die by it instead of exiting 0.
        if lifecycle.state.draining:
            if sig == signal.SIGINT:
                self.force_exit = True
                self.should_exit = True
            return
        lifecycle.state.begin_drain()
        logger.info(
            "shutdown signal received, draining",
            extra={"signal": signal.Signals(sig).name, "in_flight": lifecycle.state.in_flight},
        )
        if self._loop is None:
            self.should_exit = True
            return
        self._loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        self._drain_task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        drained = await lifecycle.state.wait_idle(self.shutdown_timeout)
        if drained:
            logger.info("drained, stopping")
        else:
            logger.warning(
                "shutdown timeout reached with requests in flight",
                extra={"in_flight": lifecycle.state.in_flight},
            )
        self.should_exit = True


def uvicorn_config(settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        "lite_agent_with_the_longest_allowed_name.api:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        lifespan="on",
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
        date_header=True,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=5,
    )


def serve(settings: Settings, sockets: list[socket.socket] | None = None) -> None:
    """Run one server in this process until it has drained."""
    server = DrainingServer(uvicorn_config(settings), settings.shutdown_timeout)
    server.run(sockets=sockets)


def _worker(sock: socket.socket) -> None:  # pragma: no cover (runs in a child process)
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, log_payloads=settings.log_payloads)
    serve(settings, sockets=[sock])


def supervise(settings: Settings, workers: int) -> int:  # pragma: no cover (multi-process)
    """Bind once, start ``workers`` processes sharing the socket, forward signals."""
    sock = uvicorn_config(settings).bind_socket()
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(sock,), daemon=False) for _ in range(workers)
    ]
    stopping = False

    def forward(sig: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, sig)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    for process in processes:
        process.start()
    logger.info("started workers", extra={"workers": workers, "pid": os.getpid()})

    status = 0
    while any(process.is_alive() for process in processes):
        for process in processes:
            process.join(timeout=0.5)
            if process.exitcode not in (None, 0) and not stopping:
                logger.error(
                    "worker exited unexpectedly, stopping",
                    extra={"worker_pid": process.pid, "exitcode": process.exitcode},
                )
                status = 1
                forward(signal.SIGTERM, None)
    sock.close()
    logger.info("all workers stopped")
    return status


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, log_payloads=settings.log_payloads)
    workers = worker_count(settings)
    observability.prepare_process_tree(settings)
    extra: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "workers": workers,
        "environment": settings.environment,
    }
    logger.info("starting", extra=extra)
    if workers == 1:
        serve(settings)
        return 0
    return supervise(settings, workers)  # pragma: no cover
