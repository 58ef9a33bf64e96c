"""``ROLE=worker``: execute queued runs with SAQ's worker, and answer probes.

No API port: the only listener (on PORT) serves ``/health``, ``/ready`` (the
store's check) and, with Prometheus, ``/metrics``, for probes and scraping.

SIGTERM (or SIGINT): ``/ready`` turns 503, the worker takes no new run, waits up
to ``SHUTDOWN_TIMEOUT`` for the runs it has, then cancels the rest, which SAQ
puts back in the queue for another worker (their next attempt starts over).
A worker that dies without that (SIGKILL) stops its runs' heartbeat: after
``RUN_VISIBILITY_TIMEOUT`` another worker's sweep takes them over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import uvicorn
from saq import Worker
from saq.types import PartialTimersDict

from .. import __version__, lifecycle, observability
from ..agent.schemas import ChatRequest
from ..config import Settings
from ..middleware import ASGIApp, Receive, Scope, Send
from ..web.endpoints import readiness
from ..web.errors import error_payload
from ..web.services import Services, running_services
from .execute import RunContext, execute_run
from .queue_saq import RUN_FUNCTION, SaqRuns

logger = logging.getLogger(__name__)

# Each job asks for the next one after at most this long, so a stopping worker
# is not held by a blocked dequeue.
DEQUEUE_TIMEOUT_SECONDS = 1.0

JobFunction = Callable[..., Coroutine[Any, Any, dict[str, Any]]]


async def _heartbeat(job: Any, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await job.update()
        except Exception as exc:
            logger.warning("run heartbeat failed", extra={"error_type": type(exc).__name__})


def job_function(ctx: RunContext, visibility_timeout: int) -> JobFunction:
    """The SAQ job that executes one attempt of a run and returns its outcome."""

    async def agent_run(
        saq_ctx: dict[str, Any],
        *,
        request: Any,
        trace_id: str,
        key_id: str | None = None,
        trace_context: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        job = saq_ctx["job"]
        beat = asyncio.create_task(_heartbeat(job, visibility_timeout / 3))
        try:
            outcome = await execute_run(
                ctx,
                job.key,
                ChatRequest.model_validate(request),
                trace_id=trace_id,
                attempt=job.attempts,
                key_id=key_id,
                queued_at=job.queued / 1000 if job.queued else None,
                trace_context=trace_context,
            )
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
        return outcome.as_json()

    return agent_run


def probe_app(services: Services) -> ASGIApp:
    """The worker's listener: /health, /ready, /metrics (when the stack serves it)."""
    metrics = observability.metrics_app()

    async def respond(send: Send, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body, separators=(",", ":")).encode()
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/metrics" and metrics is not None:
            await metrics(scope, receive, send)
        elif path == "/health":
            uptime = lifecycle.state.uptime_seconds()
            await respond(
                send, 200, {"status": "ok", "version": __version__, "uptime_seconds": uptime}
            )
        elif path == "/ready":
            status, checks = await readiness(services)
            await respond(
                send, 200 if status == "ready" else 503, {"status": status, "checks": checks}
            )
        else:
            await respond(send, 404, error_payload("not_found", "not found"))

    return app


class ProbeServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the worker's shutdown owns them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_worker(settings: Settings) -> None:
    async with running_services(settings) as services:
        runs = services.runs
        if not isinstance(runs, SaqRuns):
            raise RuntimeError("ROLE=worker needs the Redis or Postgres store")
        # SAQ's defaults, but the sweep of lost runs runs twice per visibility timeout.
        timers: PartialTimersDict = {
            "schedule": 1,
            "worker_info": 10,
            "sweep": max(1, settings.run_visibility_timeout // 2),
            "abort": 1,
        }
        worker: Worker[Any] = Worker(
            runs.queue,
            functions=[(RUN_FUNCTION, job_function(runs.ctx, settings.run_visibility_timeout))],
            concurrency=settings.run_concurrency,
            timers=timers,
            dequeue_timeout=DEQUEUE_TIMEOUT_SECONDS,
            shutdown_grace_period_s=int(settings.shutdown_timeout),
        )
        worker.SIGNALS = []
        probes = ProbeServer(
            uvicorn.Config(
                probe_app(services),
                host=settings.host,
                port=settings.port,
                lifespan="off",
                log_config=None,
                access_log=False,
                server_header=False,
            )
        )
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        probe_task = asyncio.create_task(probes.serve())
        worker_task = asyncio.create_task(worker.start())
        logger.info(
            "worker started",
            extra={"concurrency": settings.run_concurrency, "port": settings.port},
        )
        await stopping.wait()
        lifecycle.state.begin_drain()
        logger.info("shutdown signal received, handing back unfinished runs after the grace period")
        await worker.stop()
        await asyncio.gather(worker_task, return_exceptions=True)
        probes.should_exit = True
        await asyncio.gather(probe_task, return_exceptions=True)
        logger.info("worker stopped")


def main(settings: Settings) -> int:
    asyncio.run(serve_worker(settings))
    return 0
