"""A run's events, kept in the store so any api replica can replay and tail them.

Each event gets the next sequence number of its run (1, 2, ...): the SSE ``id``
a client sends back as ``Last-Event-ID`` to resume after the events it has.
Events are kept ``RUN_RETENTION_SECONDS`` after their run's last event.
"""

from __future__ import annotations

import abc
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

READ_BATCH = 500


@dataclass(frozen=True)
class RunEvent:
    seq: int
    event: str
    data: dict[str, Any]


class RunEventLog(abc.ABC):
    def __init__(self, retention_seconds: int) -> None:
        self.retention_seconds = retention_seconds

    @abc.abstractmethod
    async def append(self, run_id: str, event: str, data: dict[str, Any]) -> int:
        """Store an event as the run's next one; returns its sequence number."""

    @abc.abstractmethod
    async def read(self, run_id: str, after: int, limit: int = READ_BATCH) -> list[RunEvent]:
        """The run's events with a sequence number above ``after``, oldest first."""


class MemoryRunEventLog(RunEventLog):
    """One process's events (the memory store: one process, runs in-process)."""

    def __init__(self, retention_seconds: int, *, max_runs: int = 10_000) -> None:
        super().__init__(retention_seconds)
        self.max_runs = max_runs
        # run id -> (time of the last event, events); oldest-written first.
        self._runs: OrderedDict[str, tuple[float, list[RunEvent]]] = OrderedDict()

    def _expire(self, now: float) -> None:
        while self._runs:
            run_id, (last, _) = next(iter(self._runs.items()))
            if now - last < self.retention_seconds and len(self._runs) <= self.max_runs:
                break
            del self._runs[run_id]

    async def append(self, run_id: str, event: str, data: dict[str, Any]) -> int:
        now = time.monotonic()
        _, events = self._runs.pop(run_id, (now, []))
        item = RunEvent(seq=len(events) + 1, event=event, data=data)
        events.append(item)
        self._runs[run_id] = (now, events)
        self._expire(now)
        return item.seq

    async def read(self, run_id: str, after: int, limit: int = READ_BATCH) -> list[RunEvent]:
        _, events = self._runs.get(run_id, (0.0, []))
        return events[max(0, after) : max(0, after) + limit]
