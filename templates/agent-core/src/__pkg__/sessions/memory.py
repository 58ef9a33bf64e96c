"""In-process session store: for development and single-worker deployments.

Each worker process has its own copy; use Redis or Postgres to share sessions,
budget and rate limits between workers and pods.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .base import Message, SessionStore


class MemorySessionStore(SessionStore):
    name = "memory"

    def __init__(self, max_messages: int, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(max_messages)
        self._sessions: dict[str, list[Message]] = {}
        self._counters: dict[str, tuple[int, float]] = {}
        self._clock = clock

    async def ping(self) -> bool:
        return True

    async def load(self, session_id: str) -> list[Message]:
        return [dict(message) for message in self._sessions.get(session_id, [])]

    async def append(self, session_id: str, messages: list[Message]) -> None:
        history = self._sessions.setdefault(session_id, [])
        history.extend(dict(message) for message in messages)
        del history[: max(0, len(history) - self.max_messages)]

    async def incr(self, key: str, amount: int, ttl_seconds: int) -> int:
        now = self._clock()
        value, expires = self._counters.get(key, (0, 0.0))
        if expires <= now:
            value, expires = 0, now + ttl_seconds
        value += amount
        self._counters[key] = (value, expires)
        return value

    async def get_counter(self, key: str) -> int:
        value, expires = self._counters.get(key, (0, 0.0))
        return value if expires > self._clock() else 0
