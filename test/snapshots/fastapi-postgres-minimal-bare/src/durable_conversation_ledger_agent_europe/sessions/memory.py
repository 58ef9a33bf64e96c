"""In-process session store: for development and single-worker deployments.

Each worker process has its own copy; use Redis or Postgres to share sessions,
budget and rate limits between workers and pods. Bounded by count and by size:
at most ``max_sessions`` sessions and ``max_bytes`` of history in all (the
least recently used sessions go first; one session larger than that keeps its
newest messages), and expired counters are swept as new ones are made.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable

from .base import Message, SessionStore

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# Values (the response cache) have a bound of their own, least recently set first out.
DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024


def message_size(message: Message) -> int:
    """The message's size as ASCII-escaped JSON: an upper bound of its UTF-8 size."""
    return len(json.dumps(message, separators=(",", ":")))


class MemorySessionStore(SessionStore):
    name = "memory"

    def __init__(
        self,
        max_messages: int,
        clock: Callable[[], float] = time.monotonic,
        max_sessions: int = 10_000,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES,
    ) -> None:
        super().__init__(max_messages)
        self.max_sessions = max_sessions
        self.max_bytes = max_bytes
        # session id -> its messages, each with its size
        self._sessions: OrderedDict[str, list[tuple[Message, int]]] = OrderedDict()
        self._bytes = 0
        self._counters: dict[str, tuple[int, float]] = {}
        self._clock = clock
        self.max_value_bytes = max_value_bytes
        self._values: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._value_bytes = 0

    @property
    def size_bytes(self) -> int:
        """The history held, in bytes (as ``message_size`` counts them)."""
        return self._bytes

    async def ping(self) -> bool:
        return True

    async def load(self, session_id: str) -> list[Message]:
        return [dict(message) for message, _ in self._sessions.get(session_id, [])]

    async def append(self, session_id: str, messages: list[Message]) -> None:
        history = self._sessions.setdefault(session_id, [])
        self._sessions.move_to_end(session_id)
        for message in messages:
            size = message_size(message)
            history.append((dict(message), size))
            self._bytes += size
        self._trim(history, max(0, len(history) - self.max_messages))
        while history and self._bytes > self.max_bytes and len(self._sessions) > 1:
            _, oldest = self._sessions.popitem(last=False)
            self._bytes -= sum(size for _, size in oldest)
        while history and self._bytes > self.max_bytes:
            self._trim(history, 1)
        if not history:
            del self._sessions[session_id]
        while len(self._sessions) > self.max_sessions:
            _, oldest = self._sessions.popitem(last=False)
            self._bytes -= sum(size for _, size in oldest)

    def _trim(self, history: list[tuple[Message, int]], count: int) -> None:
        self._bytes -= sum(size for _, size in history[:count])
        del history[:count]

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

    async def get_value(self, key: str) -> str | None:
        value, expires = self._values.get(key, ("", 0.0))
        return value if expires > self._clock() else None

    async def set_value(self, key: str, value: str, ttl_seconds: int) -> None:
        self._drop_value(key)
        self._values[key] = (value, self._clock() + ttl_seconds)
        self._value_bytes += len(key) + len(value)
        while self._value_bytes > self.max_value_bytes and self._values:
            self._drop_value(next(iter(self._values)))

    def _drop_value(self, key: str) -> None:
        old = self._values.pop(key, None)
        if old is not None:
            self._value_bytes -= len(key) + len(old[0])
