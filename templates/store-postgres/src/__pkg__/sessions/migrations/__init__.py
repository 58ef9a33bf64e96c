"""Schema migrations for the Postgres session store, applied in order, once each.

Append new migrations; never edit one that has shipped.
"""

from __future__ import annotations

import logging

import psycopg

logger = logging.getLogger(__name__)

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE IF NOT EXISTS agent_session_messages (
            id          BIGSERIAL PRIMARY KEY,
            session_id  TEXT        NOT NULL,
            message     JSONB       NOT NULL,
            created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS agent_session_messages_session_idx
            ON agent_session_messages (session_id, id);
        CREATE TABLE IF NOT EXISTS agent_counters (
            key         TEXT        PRIMARY KEY,
            value       BIGINT      NOT NULL,
            expires_at  TIMESTAMPTZ NOT NULL
        );
        """,
    ),
    (
        2,
        """
        CREATE INDEX IF NOT EXISTS agent_session_messages_created_idx
            ON agent_session_messages (created_at);
        CREATE INDEX IF NOT EXISTS agent_counters_expires_idx
            ON agent_counters (expires_at);
        """,
    ),
    (
        3,
        """
        CREATE TABLE IF NOT EXISTS agent_values (
            key         TEXT        PRIMARY KEY,
            value       TEXT        NOT NULL,
            expires_at  TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX IF NOT EXISTS agent_values_expires_idx ON agent_values (expires_at);
        """,
    ),
    (
        4,
        """
        CREATE TABLE IF NOT EXISTS agent_run_events (
            run_id      TEXT        NOT NULL,
            seq         INTEGER     NOT NULL,
            event       TEXT        NOT NULL,
            data        JSONB       NOT NULL,
            created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (run_id, seq)
        );
        CREATE INDEX IF NOT EXISTS agent_run_events_created_idx
            ON agent_run_events (created_at);
        """,
    ),
]

LOCK_ID = 0x6167656E74  # "agent"


async def migrate(conn: psycopg.AsyncConnection[object]) -> list[int]:
    """Apply pending migrations on ``conn``; returns the versions applied."""
    applied: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS agent_schema_migrations ("
            " version INTEGER PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        cursor = await conn.execute("SELECT version FROM agent_schema_migrations")
        done = {int(row[0]) for row in await cursor.fetchall()}  # type: ignore[index]
        for version, sql in MIGRATIONS:
            if version in done:
                continue
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO agent_schema_migrations (version) VALUES (%s)", (version,)
            )
            applied.append(version)
    if applied:
        logger.info("database migrated", extra={"versions": applied})
    return applied
