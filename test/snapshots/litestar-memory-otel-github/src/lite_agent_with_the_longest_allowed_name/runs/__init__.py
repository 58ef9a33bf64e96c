"""Background runs (``/v1/runs``): ``create_runs()`` picks where they are queued and executed."""

from __future__ import annotations

from ..agent.loop import Agent
from ..config import Settings
from ..sessions.base import SessionStore
from .events import MemoryRunEventLog, RunEventLog
from .execute import RunContext, run_agent
from .queue import InProcessRuns, RunQueue

__all__ = ["RunQueue", "create_runs"]


def create_event_log(settings: Settings, store: SessionStore) -> RunEventLog:
    """The store the sessions use keeps the runs' events too (``store`` is the
    configured store itself, not its guard)."""
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
    return InProcessRuns(ctx, settings.run_concurrency)
