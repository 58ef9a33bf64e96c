"""The server runner behind ``python -m archive_agent``.

uvicorn with uvloop and httptools, ``worker_count()`` worker processes
(``workers.py``); the connection bounds are ``http_bounds.py``'s.

SIGTERM (and the first SIGINT), in each worker: ``/ready`` turns 503 at once,
the listening socket stays open, new agent requests get 503 ``shutting_down``,
requests and streams in flight run to completion; when none is left, or after
``SHUTDOWN_TIMEOUT``, the worker exits 0. A second SIGINT stops without waiting
for requests in flight (the application's shutdown still runs). With several
workers the supervisor forwards SIGTERM to every worker and exits 0 once they
have all finished.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import sys
from types import FrameType
from typing import Any

import uvicorn

from . import lifecycle, observability
from .config import Settings, load_settings
from .http_bounds import BoundedConfig, HttpBounds
from .logs import configure_logging
from .workers import worker_count

logger = logging.getLogger("archive_agent.server")


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
            if sig == signal.SIGINT and not self.force_exit:
                logger.warning("second SIGINT: stopping without waiting for requests in flight")
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

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        if self.force_exit:
            # uvicorn skips the application's shutdown on a forced exit, and the
            # lifespan task then dies cancelled (a CancelledError traceback). Stop
            # waiting for requests, but still close the store and flush telemetry.
            # Read after uvicorn's shutdown: a second SIGINT can arrive during it.
            # Where uvicorn already ran the lifespan shutdown, this returns at once.
            await self.lifespan.shutdown()

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
    return BoundedConfig(
        "archive_agent.api:create_app",
        bounds=HttpBounds(
            max_header_bytes=settings.max_header_bytes,
            header_read_timeout=settings.header_read_timeout,
            max_connections=settings.max_connections,
        ),
        factory=True,
        host=settings.host,
        port=settings.port,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        lifespan="on",
        log_config=None,
        access_log=False,
        # X-Forwarded-For/-Proto only from FORWARDED_ALLOW_IPS (uvicorn alone trusts 127.0.0.1).
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=list(settings.forwarded_allow_ips),
        server_header=False,
        date_header=True,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=settings.keepalive_timeout,
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
        # Always SIGTERM: a terminal's Ctrl-C has already reached every worker (one
        # process group), and a second SIGINT would read as "stop without draining".
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, signal.SIGTERM)

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
    # One image, one entry point: ROLE picks what this process does (api by default).
    if settings.role == "migrate":
        from .runs import migrate  # noqa: PLC0415 (only this role needs it)

        return migrate.main(settings)
    if settings.role == "worker":
        from .runs import worker  # noqa: PLC0415 (only this role needs it)

        logger.info("starting", extra={**extra, "role": "worker"})
        return worker.main(settings)
    logger.info("starting", extra=extra)
    if workers == 1:
        serve(settings)
        return 0
    return supervise(settings, workers)  # pragma: no cover
