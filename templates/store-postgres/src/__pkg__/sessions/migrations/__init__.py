"""Schema migrations for the Postgres session store, applied in order, once each.

Append new migrations; never edit one that has shipped.
"""

from __future__ import annotations

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
]
