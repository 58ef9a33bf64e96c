"""Background runs (``/v1/runs``): ``create_runs()`` picks where they are queued and executed."""

from __future__ import annotations

from ..agent.loop import Agent
from ..config import Settings
from ..sessions.base import SessionStore
from ..sessions.postgres import PostgresSessionStore
from .events import MemoryRunEventLog, RunEventLog
from .events_postgres import PostgresRunEventLog
from .execute import RunContext, run_agent
from .queue import InProcessRuns, RunQueue
from .queue_saq import SaqRuns

__all__ = ["RunQueue", "create_runs"]


def create_event_log(settings: Settings, store: SessionStore) -> RunEventLog:
    """The store the sessions use keeps the runs' events too (``store`` is the
    configured store itself, not its guard)."""
    if isinstance(store, PostgresSessionStore):
        return PostgresRunEventLog(store, settings.run_retention_seconds)
    return MemoryRunEventLog(settings.run_retention_seconds)


def create_runs(
    settings: Settings, agent: Agent, store: SessionStore, inner_store: SessionStore
) -> RunQueue:
    ctx = RunContext(
        agent=run_agent(agent, settings.run_timeout),
        events=create_event_log(settings, inner_store),
        store=store,
        retention_seconds=settings.run_retention_seconds,
    )
    url = {"redis": settings.redis_url, "postgres": settings.database_url}.get(
        settings.session_store, ""
    )
    if url:
        return SaqRuns(
            ctx,
            url,
            run_timeout=settings.run_timeout,
            visibility_timeout=settings.run_visibility_timeout,
            name=settings.run_queue_name,
        )
    return InProcessRuns(ctx, settings.run_concurrency)
