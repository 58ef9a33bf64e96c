"""Where runs wait and who executes them: the interface and the in-process runner.

With a shared store (Redis, Postgres) runs go through SAQ (``queue_saq.py``) and
``ROLE=worker`` processes execute them. With the memory store there is one
process and no worker: ``InProcessRuns`` executes runs in the api process, at
most ``RUN_CONCURRENCY`` at a time; a run still queued or running when the
process stops is lost with the rest of the memory store.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time

from .. import observability
from ..agent.schemas import ChatRequest
from .execute import RunContext, cancelled_outcome, execute_run, request_cancel
from .model import RunRecord

logger = logging.getLogger(__name__)

# agent_queue_depth is read from the queue this often (one LLEN on Redis, one
# indexed count on Postgres), each read bounded by the timeout.
QUEUE_DEPTH_INTERVAL_SECONDS = 5.0
QUEUE_DEPTH_TIMEOUT_SECONDS = 2.0


class RunQueue(abc.ABC):
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self._depth_reports: asyncio.Task[None] | None = None

    def start_depth_reports(self, every: float = QUEUE_DEPTH_INTERVAL_SECONDS) -> None:
        """Read ``depth()`` into ``agent_queue_depth`` every ``every`` seconds, in the
        background, until ``stop_depth_reports()``."""
        if self._depth_reports is None:
            self._depth_reports = asyncio.create_task(self._report_depth(every))

    async def stop_depth_reports(self) -> None:
        task, self._depth_reports = self._depth_reports, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _report_depth(self, every: float) -> None:
        while True:
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a
                # cancellation that lands as the read returns, and the stop never ends.
                async with asyncio.timeout(QUEUE_DEPTH_TIMEOUT_SECONDS):
                    depth = await self.depth()
            except Exception as exc:
                # The gauge keeps its last value; /ready reports the store's health.
                logger.warning("queue depth read failed", extra={"error_type": type(exc).__name__})
            else:
                observability.set_queue_depth(depth)
            await asyncio.sleep(every)

    async def start(self) -> None:  # noqa: B027 (optional hook)
        """Connect. Called once per process at start."""

    async def close(self) -> None:  # noqa: B027 (optional hook)
        """Disconnect (and stop runs in flight, in-process). Called once at exit."""

    @abc.abstractmethod
    async def submit(
        self,
        run_id: str,
        owner: str,
        request: ChatRequest,
        *,
        trace_id: str,
        key_id: str | None = None,
    ) -> tuple[RunRecord, bool]:
        """Queue a run under ``run_id``, or find the run already queued under it;
        returns the run and whether it is new. ``key_id``: the budget it spends on."""

    @abc.abstractmethod
    async def get(self, run_id: str) -> RunRecord | None:
        """The run, or None (unknown, or past its retention)."""

    @abc.abstractmethod
    async def cancel(self, run_id: str) -> RunRecord | None:
        """Ask the run to stop: a queued run is cancelled at once, a running one at
        its next step boundary. Returns the run as it is now."""

    @abc.abstractmethod
    async def depth(self) -> int:
        """How many runs wait for a worker."""


class InProcessRuns(RunQueue):
    def __init__(self, ctx: RunContext, concurrency: int, *, max_runs: int = 10_000) -> None:
        super().__init__(ctx)
        self.max_runs = max_runs
        self._slots = asyncio.Semaphore(concurrency)
        self._records: dict[str, RunRecord] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _forget_old(self) -> None:
        cutoff = time.time() - self.ctx.retention_seconds
        for run_id, record in list(self._records.items()):
            expired = record.finished and (record.finished_at or 0) < cutoff
            if expired or (record.finished and len(self._records) > self.max_runs):
                del self._records[run_id]

    async def submit(
        self,
        run_id: str,
        owner: str,
        request: ChatRequest,
        *,
        trace_id: str,
        key_id: str | None = None,
    ) -> tuple[RunRecord, bool]:
        existing = self._records.get(run_id)
        if existing is not None:
            return existing, False
        self._forget_old()
        record = RunRecord(
            id=run_id, owner=owner, status="queued", created_at=time.time(), trace_id=trace_id
        )
        self._records[run_id] = record
        # Taken here, in the request that queues the run (its span is current).
        trace_context = observability.run_trace_context()
        self._tasks[run_id] = asyncio.create_task(
            self._execute(record, request, trace_id, key_id, trace_context)
        )
        return record, True

    async def _execute(
        self,
        record: RunRecord,
        request: ChatRequest,
        trace_id: str,
        key_id: str | None,
        trace_context: dict[str, str],
    ) -> None:
        try:
            async with self._slots:
                if record.finished:  # cancelled while queued
                    return
                record.status = "running"
                record.started_at = time.time()
                record.attempts += 1
                outcome = await execute_run(
                    self.ctx,
                    record.id,
                    request,
                    trace_id=trace_id,
                    attempt=record.attempts,
                    key_id=key_id,
                    queued_at=record.created_at,
                    trace_context=trace_context,
                )
                record.status = outcome.status
                record.result = outcome.result
                record.error = outcome.error
                record.finished_at = time.time()
        finally:
            self._tasks.pop(record.id, None)

    async def get(self, run_id: str) -> RunRecord | None:
        return self._records.get(run_id)

    async def cancel(self, run_id: str) -> RunRecord | None:
        record = self._records.get(run_id)
        if record is None or record.finished:
            return record
        await request_cancel(self.ctx, run_id)
        if record.status == "queued":
            outcome = cancelled_outcome(record.trace_id)
            record.status = outcome.status
            record.error = outcome.error
            record.finished_at = time.time()
            observability.record_run(outcome.status, None)
            await self.ctx.events.append(run_id, "error", outcome.error or {})
        return record

    async def depth(self) -> int:
        return sum(1 for record in self._records.values() if record.status == "queued")
