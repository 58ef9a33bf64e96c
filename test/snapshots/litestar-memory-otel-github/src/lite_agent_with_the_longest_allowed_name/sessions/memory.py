"""In-process session store: for development and single-worker deployments.

Each worker process has its own copy; use Redis or Postgres to share sessions,
budget and rate limits between workers and pods. Bounded: at most
``max_sessions`` sessions (the least recently used go first), and expired
counters are swept as new ones are made.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from .base import Message, SessionStore


class MemorySessionStore(SessionStore):
    name = "memory"

    def __init__(
        self,
        max_messages: int,
        clock: Callable[[], float] = time.monotonic,
        max_sessions: int = 10_000,
    ) -> None:
        super().__init__(max_messages)
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, list[Message]] = OrderedDict()
        self._counters: dict[str, tuple[int, float]] = {}
        self._clock = clock

    async def ping(self) -> bool:
        return True

    async def load(self, session_id: str) -> list[Message]:
        return [dict(message) for message in self._sessions.get(session_id, [])]

    async def append(self, session_id: str, messages: list[Message]) -> None:
        history = self._sessions.setdefault(session_id, [])
        self._sessions.move_to_end(session_id)
        history.extend(dict(message) for message in messages)
        del history[: max(0, len(history) - self.max_messages)]
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)

    async def incr(self, key: str, amount: int, ttl_seconds: int) -> int:
        now = self._clock()
        value, expires = self._counters.get(key, (0, 0.0))
        if expires <= now:
            value, expires = 0, now + ttl_seconds
            if len(self._counters) >= 1024:
                self._sweep(now)
        value += amount
        self._counters[key] = (value, expires)
        return value

    def _sweep(self, now: float) -> None:
        for stale in [k for k, (_, expires) in self._counters.items() if expires <= now]:
            del self._counters[stale]

    async def get_counter(self, key: str) -> int:
        value, expires = self._counters.get(key, (0, 0.0))
        return value if expires > self._clock() else 0
