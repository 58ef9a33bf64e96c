"""A run's events in Redis: one list per run (``<prefix>run-events:<id>``).

RPUSH returns the list's new length, which is the event's sequence number, in
one atomic command; the list expires ``RUN_RETENTION_SECONDS`` after its last event.
"""

from __future__ import annotations

import json
from typing import Any

from ..sessions.redis import RedisSessionStore
from .events import READ_BATCH, RunEvent, RunEventLog


class RedisRunEventLog(RunEventLog):
    def __init__(self, store: RedisSessionStore, retention_seconds: int) -> None:
        super().__init__(retention_seconds)
        self.store = store

    def _key(self, run_id: str) -> str:
        return f"{self.store.prefix}run-events:{run_id}"

    async def append(self, run_id: str, event: str, data: dict[str, Any]) -> int:
        key = self._key(run_id)
        async with self.store.client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, json.dumps([event, data], separators=(",", ":")))
            pipe.expire(key, self.retention_seconds)
            length, _ = await pipe.execute()
        return int(length)

    async def read(self, run_id: str, after: int, limit: int = READ_BATCH) -> list[RunEvent]:
        start = max(0, after)
        # redis-py 7's asyncio stubs type commands as "Awaitable | value".
        raw: list[Any] = await self.store.client.lrange(  # type: ignore[misc]
            self._key(run_id), start, start + limit - 1
        )
        events = []
        for offset, item in enumerate(raw):
            event, data = json.loads(item)
            events.append(RunEvent(seq=start + offset + 1, event=str(event), data=dict(data)))
        return events
