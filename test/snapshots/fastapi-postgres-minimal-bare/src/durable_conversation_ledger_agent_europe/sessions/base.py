"""The session store interface.

A store keeps each session's message history (trimmed to the newest
``SESSION_MAX_MESSAGES``) and small shared counters (the daily token budget,
rate-limit windows) so they are shared by every worker and pod when the store
is Redis or Postgres.
"""

from __future__ import annotations

import abc
from typing import Any

Message = dict[str, Any]


class SessionStore(abc.ABC):
    name: str = "abstract"
    # The exceptions that mean the store cannot be reached (sessions/guard.py
    # answers them with 503 store_unavailable).
    outage_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages

    async def connect(self) -> None:  # noqa: B027 (optional hook)
        """Open connections (and migrate). Called once per worker at start."""

    async def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections. Called once per worker at exit."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the store answers (the readiness check)."""

    @abc.abstractmethod
    async def load(self, session_id: str) -> list[Message]:
        """The session's history, oldest first; empty for an unknown session."""

    @abc.abstractmethod
    async def append(self, session_id: str, messages: list[Message]) -> None:
        """Add messages and trim the history to the newest ``max_messages``."""

    @abc.abstractmethod
    async def incr(self, key: str, amount: int, ttl_seconds: int) -> int:
        """Add to a counter (created with a TTL) and return its new value."""

    @abc.abstractmethod
    async def get_counter(self, key: str) -> int:
        """A counter's value, 0 when unknown or expired."""

    # Small values with a TTL (the response cache, agent/response_cache.py).
    @abc.abstractmethod
    async def get_value(self, key: str) -> str | None:
        """A value set by ``set_value``; None when unknown or expired."""

    @abc.abstractmethod
    async def set_value(self, key: str, value: str, ttl_seconds: int) -> None:
        """Set (or replace) a value that expires ``ttl_seconds`` from now."""
