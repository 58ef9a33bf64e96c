"""The Postgres store against a live server: set DATABASE_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest

from archive_agent.config import Settings
from archive_agent.sessions import create_store
from archive_agent.sessions import migrate as migrate_module
from archive_agent.sessions.migrate import run
from archive_agent.sessions.migrations import MIGRATIONS
from archive_agent.sessions.postgres import (
    CLEANUP_EVERY,
    PostgresSessionStore,
)

from store_contract import (
    check_bad_answers_keep_the_session_usable,
    check_key_budget_shared_across_processes,
    check_store_contract,
    check_values_expire,
)

DATABASE_URL = os.environ.get("DATABASE_URL", "")
live = pytest.mark.skipif(
    not DATABASE_URL, reason="DATABASE_URL is not set: no live Postgres to test against"
)


@pytest.fixture
async def store() -> AsyncIterator[PostgresSessionStore]:
    store = PostgresSessionStore(DATABASE_URL, max_messages=4)
    await store.connect()
    yield store
    await store.close()


@live
async def test_postgres_store_contract(store: PostgresSessionStore) -> None:
    await check_store_contract(store)


@live
async def test_postgres_session_survives_bad_answers(store: PostgresSessionStore) -> None:
    store.max_messages = 50
    await check_bad_answers_keep_the_session_usable(store)


@live
async def test_postgres_key_budget_is_shared_across_processes(
    store: PostgresSessionStore,
) -> None:
    await check_key_budget_shared_across_processes(
        store,
        imports="from archive_agent.sessions.postgres import PostgresSessionStore",
        store_expression=f"PostgresSessionStore({DATABASE_URL!r}, max_messages=4)",
    )


@live
async def test_postgres_counter_restarts_after_expiry(store: PostgresSessionStore) -> None:
    key = f"exp-{uuid.uuid4().hex}"
    assert await store.incr(key, 3, 0) == 3
    assert await store.get_counter(key) == 0
    assert await store.incr(key, 2, 60) == 2


@live
async def test_cleanup_removes_expired_counters(store: PostgresSessionStore) -> None:
    key = f"gone-{uuid.uuid4().hex}"
    await store.incr(key, 1, 0)
    store._updates = CLEANUP_EVERY - 1
    await store.incr(f"other-{uuid.uuid4().hex}", 1, 60)  # triggers the cleanup
    async with await psycopg.AsyncConnection.connect(DATABASE_URL) as conn:
        cursor = await conn.execute("SELECT count(*) FROM agent_counters WHERE key = %s", (key,))
        row = await cursor.fetchone()
    assert row is not None
    assert row[0] == 0


@live
async def test_migrations_are_idempotent(store: PostgresSessionStore) -> None:
    assert await run(DATABASE_URL) == []
    async with await psycopg.AsyncConnection.connect(DATABASE_URL) as conn:
        cursor = await conn.execute("SELECT max(version) FROM agent_schema_migrations")
        row = await cursor.fetchone()
    assert row is not None
    assert row[0] == MIGRATIONS[-1][0]


@live
def test_migrate_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", DATABASE_URL)
    assert migrate_module.main() == 0
    assert "migrations applied" in capsys.readouterr().out


def test_migrate_command_needs_a_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "")
    assert migrate_module.main() == 2
    assert "DATABASE_URL" in capsys.readouterr().err


async def test_not_connected() -> None:
    store = PostgresSessionStore("postgresql://localhost:1/none", max_messages=4)
    assert await store.ping() is False
    await store.close()


def test_create_store_picks_postgres() -> None:
    settings = Settings(
        _env_file=None, session_store="postgres", database_url="postgresql://localhost/db"
    )
    assert isinstance(create_store(settings), PostgresSessionStore)


def test_database_url_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValueError, match="DATABASE_URL"):
        Settings(_env_file=None, session_store="postgres")


@live
async def test_postgres_values_expire(store: PostgresSessionStore) -> None:
    await check_values_expire(store)
