"""Runs on SAQ (Simple Async Queue) over the store the service uses (Redis).

A run is one SAQ job whose key is the run id; the job keeps the run's owner
(``meta``), its request, its timestamps and, once finished, its outcome
(``result``). ``ROLE=worker`` processes execute the jobs (``worker.py``).

Delivery is at least once: a worker that stops (SIGTERM) hands its unfinished
runs back to the queue; one that dies (SIGKILL, a lost node) stops sending its
runs' heartbeat and SAQ's sweep gives them to another worker after
``RUN_VISIBILITY_TIMEOUT`` seconds, up to ``RUN_MAX_ATTEMPTS`` attempts. A
taken-over run starts its turn over (its event stream says ``retry`` first).
"""

from __future__ import annotations

import logging

from saq import Job, Status
from saq.queue.redis import RedisQueue as StoreQueue

from .. import observability
from ..agent.schemas import ChatRequest
from .execute import RunContext, cancelled_outcome, request_cancel
from .model import RunOutcome, RunRecord, RunStatus
from .queue import RunQueue

logger = logging.getLogger(__name__)

RUN_FUNCTION = "agent_run"
RUN_MAX_ATTEMPTS = 3
# SAQ's own hard limit stays above the agent's RUN_TIMEOUT, so a run that
# times out ends as its own failed outcome, never as a retried SAQ timeout.
HARD_TIMEOUT_MARGIN_SECONDS = 30
CANCELLED = "cancelled"
# How long the sweep waits, per lost run, for its worker to acknowledge the abort
# before queueing the run again. SAQ's default waits 5 s, run after run; the run's
# heartbeat has already been silent for RUN_VISIBILITY_TIMEOUT, so its worker is
# taken as lost. A sweep that outlives its lock (the sweep interval, Redis) lets
# another worker's sweep queue the same runs a second time: two attempts at once.
SWEEP_ABORT_WAIT_SECONDS = 0.05


class RunsQueue(StoreQueue):
    """SAQ's Redis queue whose sweep of lost runs takes milliseconds
    per run, however many a lost worker had, so it ends well within its lock."""

    async def sweep(self, lock: int = 60, abort: float = SWEEP_ABORT_WAIT_SECONDS) -> list[str]:
        return await super().sweep(lock, min(abort, SWEEP_ABORT_WAIT_SECONDS))

    async def abort(self, job: Job, error: str, ttl: float = 5) -> None:
        """SAQ's abort, except that a sweep's abort leaves the job in the active list.

        SAQ's sweep aborts a lost job (which takes it off the active list), waits,
        then queues it again: a sweeping worker killed in between left the run in
        no list, never swept again and never finished. Here the job stays active
        until ``retry()`` or ``finish()`` moves it (each one atomic), so the next
        sweep finds it, ABORTING, and queues it. A cancel aborts as SAQ does.
        """
        if error != self.swept_error_message:
            await super().abort(job, error, ttl)
            return
        # SAQ's RedisQueue.abort (saq 0.26.4, locked) without its LREM of the active list.
        async with self._op_sem, self.redis.pipeline(transaction=True) as pipe:
            job.status = Status.ABORTING
            job.error = error
            pipe.lrem(self._queued, 0, job.id)
            pipe.zrem(self._incomplete, job.id)
            pipe.set(job.id, self.serialize(job))
            pipe.setex(job.abort_id, max(1, int(ttl)), error)
            pipe.publish(job.id, job.status)
            dequeued, *_ = await pipe.execute()
        if dequeued:
            await self.finish(job, Status.ABORTED, error=error)
            await self.redis.delete(job.abort_id)


_STATUSES: dict[Status, RunStatus] = {
    Status.NEW: "queued",
    Status.QUEUED: "queued",
    Status.ACTIVE: "running",
    Status.ABORTING: "running",
}


def _seconds(millis: int) -> float | None:
    return millis / 1000 if millis else None


def record_of(job: Job) -> RunRecord:
    trace_id = str((job.kwargs or {}).get("trace_id", ""))
    record = RunRecord(
        id=job.key,
        owner=str(job.meta.get("owner", "")),
        status=_STATUSES.get(job.status, "failed"),
        created_at=(job.queued or 0) / 1000,
        started_at=_seconds(job.started),
        finished_at=_seconds(job.completed),
        attempts=job.attempts,
        trace_id=trace_id,
    )
    outcome: RunOutcome | None = None
    if job.status == Status.COMPLETE:
        outcome = RunOutcome.from_json(job.result)
    elif job.status == Status.ABORTED and job.error == CANCELLED:
        outcome = cancelled_outcome(trace_id)
    if job.status in (Status.COMPLETE, Status.FAILED, Status.ABORTED) and outcome is None:
        # A job SAQ gave up on (attempts exhausted) or that ended without an outcome.
        outcome = RunOutcome(
            status="failed",
            error={
                "code": "internal_error",
                "message": "the run could not be completed",
                "trace_id": trace_id,
                "details": [],
            },
        )
    if outcome is not None:
        record.status = outcome.status
        record.result = outcome.result
        record.error = outcome.error
    return record


class SaqRuns(RunQueue):
    def __init__(
        self,
        ctx: RunContext,
        url: str,
        *,
        run_timeout: float,
        visibility_timeout: int,
        name: str,
    ) -> None:
        super().__init__(ctx)
        self.queue = RunsQueue.from_url(url, name=name)
        self.run_timeout = run_timeout
        self.visibility_timeout = visibility_timeout

    async def start(self) -> None:
        await self.queue.connect()

    async def close(self) -> None:
        await self.queue.disconnect()

    async def submit(
        self,
        run_id: str,
        owner: str,
        request: ChatRequest,
        *,
        trace_id: str,
        key_id: str | None = None,
    ) -> tuple[RunRecord, bool]:
        existing = await self.queue.job(run_id)
        if existing is not None:
            return record_of(existing), False
        job = Job(
            function=RUN_FUNCTION,
            key=run_id,
            kwargs={
                "request": request.model_dump(mode="json"),
                "trace_id": trace_id,
                "key_id": key_id,
                # The queuing span's context (W3C traceparent): the run's span links to it.
                "trace_context": observability.run_trace_context(),
            },
            meta={"owner": owner},
            timeout=int(self.run_timeout) + HARD_TIMEOUT_MARGIN_SECONDS,
            heartbeat=self.visibility_timeout,
            retries=RUN_MAX_ATTEMPTS,
            ttl=self.ctx.retention_seconds,
        )
        if await self.queue.enqueue(job) is None:
            # Queued concurrently under the same Idempotency-Key: that run.
            existing = await self.queue.job(run_id)
            if existing is not None:
                return record_of(existing), False
        return record_of(job), True

    async def get(self, run_id: str) -> RunRecord | None:
        job = await self.queue.job(run_id)
        return record_of(job) if job is not None else None

    async def cancel(self, run_id: str) -> RunRecord | None:
        job = await self.queue.job(run_id)
        if job is None:
            return None
        record = record_of(job)
        if record.finished:
            return record
        # Read at the run's next step boundary; also covers a run that a worker
        # takes between this read and the abort below.
        await request_cancel(self.ctx, run_id)
        if job.status in (Status.NEW, Status.QUEUED):
            await self.queue.abort(job, CANCELLED)
            outcome = cancelled_outcome(record.trace_id)
            observability.record_run(outcome.status, None)
            await self.ctx.events.append(run_id, "error", outcome.error or {})
            job = await self.queue.job(run_id) or job
        return record_of(job)

    async def depth(self) -> int:
        return await self.queue.count("queued")
