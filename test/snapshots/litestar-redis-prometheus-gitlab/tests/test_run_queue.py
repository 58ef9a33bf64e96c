"""The queue-depth reports every role runs in the background (runs/queue.py)."""

from __future__ import annotations

import asyncio

from triage_agent.agent.budget import TokenBudget
from triage_agent.agent.fake import FakeChatModel
from triage_agent.agent.loop import Agent, AgentLimits
from triage_agent.agent.tools import default_registry
from triage_agent.runs.events import MemoryRunEventLog
from triage_agent.runs.execute import RunContext, run_agent
from triage_agent.runs.queue import InProcessRuns
from triage_agent.sessions.memory import MemorySessionStore


class SignallingRuns(InProcessRuns):
    """Says when a depth read has returned."""

    def __init__(self) -> None:
        store = MemorySessionStore(max_messages=50)
        agent = Agent(
            FakeChatModel(), default_registry(), store, TokenBudget(store, 0), AgentLimits()
        )
        super().__init__(RunContext(run_agent(agent, 60), MemoryRunEventLog(60), store, 60), 1)
        self.read = asyncio.Event()

    async def depth(self) -> int:
        self.read.set()
        return 0


async def test_a_stop_that_lands_as_a_depth_read_returns_still_stops_the_reports() -> None:
    # The stop comes after the read has returned and before the reporting task has
    # resumed: asyncio.wait_for (Python 3.11) returned the read's result and dropped
    # the cancellation, so the reports went on and the shutdown waited for ever.
    runs = SignallingRuns()
    runs.start_depth_reports(every=3600)
    reports = runs._depth_reports
    assert reports is not None
    await runs.read.wait()
    # Its own task: stop_depth_reports() suppresses CancelledError, so a timeout
    # around it would be swallowed too.
    stopping = asyncio.create_task(runs.stop_depth_reports())
    done, _ = await asyncio.wait({stopping}, timeout=5)
    if not done:
        reports.cancel()  # sleeping now: this one is not lost
        await asyncio.wait({stopping}, timeout=5)
    assert done, "the depth reports went on after stop_depth_reports()"
    assert reports.cancelled()
