"""The bound on agent turns in flight in one worker (MAX_INFLIGHT_TURNS).

A turn beyond it is refused at once with 503 ``overloaded`` and ``Retry-After``
instead of waiting: queued inside the HTTP client, every waiting turn would
hold its connection and its memory until it timed out, and the time to first
token of every stream would grow with the queue. Each turn holds at most one
upstream connection at a time, so the default bound is LLM_MAX_CONNECTIONS and
the model client's pool never has a request waiting for a connection.
"""

from __future__ import annotations

from .errors import Overloaded

# Seconds a refused caller is told to wait: turns last about that long.
OVERLOADED_RETRY_AFTER_SECONDS = 1


class TurnSlots:
    """A counter of turns in flight with a fixed capacity (one event loop, no lock needed)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.in_use = 0

    @property
    def saturated(self) -> bool:
        return self.in_use >= self.capacity

    def acquire(self) -> None:
        """Take a slot, or raise ``Overloaded`` when every slot is taken."""
        if self.in_use >= self.capacity:
            raise Overloaded(retry_after=OVERLOADED_RETRY_AFTER_SECONDS)
        self.in_use += 1

    def release(self) -> None:
        self.in_use = max(0, self.in_use - 1)
