"""Postgres session store (psycopg 3, async connection pool).

Tables are created by the migrations in ``migrations/`` (run at start by
``connect()``, or by ``python -m <pkg>.sessions.migrate``), never at import.
Expired counters and values, and messages older than 30 days are deleted every
``CLEANUP_EVERY`` counter updates (per process).

Outages: connecting and waiting for a pooled connection take at most the store
timeout (STORE_TIMEOUT), and a pool that cannot reconnect gives up after that
long too, so the next request tries a fresh connection at once: requests
succeed again within about that time of the server's return (psycopg_pool's
default would back off for minutes).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from psycopg import AsyncConnection, InterfaceError, OperationalError
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from .base import Message, SessionStore
from .migrations import migrate

logger = logging.getLogger(__name__)
# The pool logs a warning per failed connection attempt; the store's guard
# (sessions/guard.py) logs an outage once instead.
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

DEFAULT_TIMEOUT_SECONDS = 2.0

CLEANUP_EVERY = 500

INCR_SQL = """
INSERT INTO agent_counters (key, value, expires_at)
VALUES (%(key)s, %(amount)s, now() + make_interval(secs => %(ttl)s))
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN agent_counters.expires_at <= now()
                 THEN EXCLUDED.value ELSE agent_counters.value + EXCLUDED.value END,
    expires_at = CASE WHEN agent_counters.expires_at <= now()
                      THEN EXCLUDED.expires_at ELSE agent_counters.expires_at END
RETURNING value
"""

SET_VALUE_SQL = """
INSERT INTO agent_values (key, value, expires_at)
VALUES (%(key)s, %(value)s, now() + make_interval(secs => %(ttl)s))
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
"""

CLEANUP_SQL = """
DELETE FROM agent_counters WHERE expires_at < now();
DELETE FROM agent_values WHERE expires_at < now();
DELETE FROM agent_session_messages WHERE created_at < now() - make_interval(days => 30);
"""

TRIM_SQL = """
DELETE FROM agent_session_messages
WHERE session_id = %(sid)s AND id NOT IN (
    SELECT id FROM agent_session_messages
    WHERE session_id = %(sid)s ORDER BY id DESC LIMIT %(keep)s
)
"""


class PostgresSessionStore(SessionStore):
    name = "postgres"
    # PoolTimeout is an OperationalError; InterfaceError: a connection already closed.
    outage_errors = (OperationalError, InterfaceError)

    def __init__(
        self,
        url: str,
        max_messages: int,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(max_messages)
        self.url = url
        self.timeout = timeout
        self.min_size = min_size
        self.max_size = max_size
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._updates = 0

    @property
    def pool(self) -> AsyncConnectionPool[AsyncConnection[Any]]:
        if self._pool is None:
            raise RuntimeError("the Postgres store is not connected")
        return self._pool

    async def connect(self) -> None:
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            self.url,
            min_size=self.min_size,
            max_size=self.max_size,
            # libpq's connect_timeout is whole seconds, at least 2
            kwargs={"autocommit": True, "connect_timeout": max(2, math.ceil(self.timeout))},
            open=False,
            check=AsyncConnectionPool.check_connection,
            timeout=self.timeout,
        )
        await pool.open(wait=True, timeout=30)  # at start, the server may still be coming up
        pool.reconnect_timeout = self.timeout  # from now on, give up on a broken attempt fast
        self._pool = pool
        async with pool.connection() as conn:
            await migrate(conn)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def ping(self) -> bool:
        try:
            async with self.pool.connection(timeout=self.timeout) as conn:
                await conn.execute("SELECT 1")
            return True
        except Exception as exc:
            logger.debug("postgres ping failed", extra={"error_type": type(exc).__name__})
            return False

    async def load(self, session_id: str) -> list[Message]:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT message FROM agent_session_messages WHERE session_id = %s ORDER BY id",
                (session_id,),
            )
            rows = await cursor.fetchall()
        return [dict(row[0]) for row in rows]

    async def append(self, session_id: str, messages: list[Message]) -> None:
        if not messages:
            return
        async with self.pool.connection() as conn, conn.transaction():
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO agent_session_messages (session_id, message) VALUES (%s, %s)",
                    [(session_id, Jsonb(message)) for message in messages],
                )
            await conn.execute(TRIM_SQL, {"sid": session_id, "keep": self.max_messages})

    async def cleanup(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(CLEANUP_SQL)

    async def incr(self, key: str, amount: int, ttl_seconds: int) -> int:
        self._updates += 1
        if self._updates % CLEANUP_EVERY == 0:
            await self.cleanup()
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                INCR_SQL, {"key": key, "amount": amount, "ttl": ttl_seconds}
            )
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def get_counter(self, key: str) -> int:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT value FROM agent_counters WHERE key = %s AND expires_at > now()", (key,)
            )
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def get_value(self, key: str) -> str | None:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT value FROM agent_values WHERE key = %s AND expires_at > now()", (key,)
            )
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def set_value(self, key: str, value: str, ttl_seconds: int) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(SET_VALUE_SQL, {"key": key, "value": value, "ttl": ttl_seconds})
