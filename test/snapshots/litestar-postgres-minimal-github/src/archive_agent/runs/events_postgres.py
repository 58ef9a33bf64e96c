"""A run's events in Postgres: table ``agent_run_events`` (migration 3).

The next sequence number is taken in the INSERT itself; two writers of one run
(only after a lost worker's run was taken over) collide on the primary key and
the loser takes the next number. Events older than ``RUN_RETENTION_SECONDS``
are deleted every ``CLEANUP_EVERY`` appends (per process).
"""

from __future__ import annotations

from typing import Any

from psycopg import errors
from psycopg.types.json import Jsonb

from ..sessions.postgres import PostgresSessionStore
from .events import READ_BATCH, RunEvent, RunEventLog

CLEANUP_EVERY = 1000
APPEND_ATTEMPTS = 3

APPEND_SQL = """
INSERT INTO agent_run_events (run_id, seq, event, data)
SELECT %(run_id)s, coalesce(max(seq), 0) + 1, %(event)s, %(data)s
FROM agent_run_events WHERE run_id = %(run_id)s
RETURNING seq
"""


class PostgresRunEventLog(RunEventLog):
    def __init__(self, store: PostgresSessionStore, retention_seconds: int) -> None:
        super().__init__(retention_seconds)
        self.store = store
        self._appends = 0

    async def append(self, run_id: str, event: str, data: dict[str, Any]) -> int:
        self._appends += 1
        if self._appends % CLEANUP_EVERY == 0:
            await self.cleanup()
        params = {"run_id": run_id, "event": event, "data": Jsonb(data)}
        for attempt in range(1, APPEND_ATTEMPTS + 1):
            try:
                async with self.store.pool.connection() as conn:
                    cursor = await conn.execute(APPEND_SQL, params)
                    row = await cursor.fetchone()
                return int(row[0]) if row else 0
            except errors.UniqueViolation:
                if attempt == APPEND_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    async def read(self, run_id: str, after: int, limit: int = READ_BATCH) -> list[RunEvent]:
        async with self.store.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT seq, event, data FROM agent_run_events"
                " WHERE run_id = %s AND seq > %s ORDER BY seq LIMIT %s",
                (run_id, after, limit),
            )
            rows = await cursor.fetchall()
        return [RunEvent(seq=int(row[0]), event=str(row[1]), data=dict(row[2])) for row in rows]

    async def cleanup(self) -> None:
        async with self.store.pool.connection() as conn:
            await conn.execute(
                "DELETE FROM agent_run_events WHERE created_at < now() - make_interval(secs => %s)",
                (self.retention_seconds,),
            )
