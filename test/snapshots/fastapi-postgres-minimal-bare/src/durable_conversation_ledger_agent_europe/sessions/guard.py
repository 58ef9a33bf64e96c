"""A store outage as the contract's 503 ``store_unavailable``, logged once.

``GuardedStore`` wraps the configured store: the errors that mean "the store
cannot be reached" (each store lists them in ``outage_errors``, plus OS and
timeout errors) become ``StoreUnavailable``. The first failure of an outage logs
one warning; the end of the outage logs one line with how many calls failed and
for how long, instead of a traceback per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..web.errors import StoreUnavailable
from .base import Message, SessionStore

logger = logging.getLogger(__name__)

T = TypeVar("T")


class GuardedStore(SessionStore):
    def __init__(self, store: SessionStore) -> None:
        super().__init__(store.max_messages)
        self.inner = store
        self.name = store.name
        self._errors: tuple[type[BaseException], ...] = (
            *store.outage_errors,
            OSError,
            TimeoutError,
        )
        self._failures = 0
        self._outage_started = 0.0

    @property
    def in_outage(self) -> bool:
        return self._failures > 0

    async def _guard(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            result = await call()
        except self._errors as exc:
            if self._failures == 0:
                self._outage_started = time.monotonic()
                logger.warning(
                    "session store unavailable",
                    extra={"store": self.name, "error_type": type(exc).__name__},
                )
            self._failures += 1
            raise StoreUnavailable() from exc
        if self._failures:
            logger.warning(
                "session store available again",
                extra={
                    "store": self.name,
                    "failed_calls": self._failures,
                    "outage_s": round(time.monotonic() - self._outage_started, 3),
                },
            )
            self._failures = 0
        return result

    async def connect(self) -> None:
        await self.inner.connect()

    async def close(self) -> None:
        await self.inner.close()

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def load(self, session_id: str) -> list[Message]:
        return await self._guard(lambda: self.inner.load(session_id))

    async def append(self, session_id: str, messages: list[Message]) -> None:
        await self._guard(lambda: self.inner.append(session_id, messages))

    async def incr(self, key: str, amount: int, ttl_seconds: int) -> int:
        return await self._guard(lambda: self.inner.incr(key, amount, ttl_seconds))

    async def get_counter(self, key: str) -> int:
        return await self._guard(lambda: self.inner.get_counter(key))

    async def get_value(self, key: str) -> str | None:
        return await self._guard(lambda: self.inner.get_value(key))

    async def set_value(self, key: str, value: str, ttl_seconds: int) -> None:
        await self._guard(lambda: self.inner.set_value(key, value, ttl_seconds))
