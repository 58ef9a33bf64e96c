"""The Redis store against a live server: set REDIS_URL (e.g. redis://localhost:6379/15)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from support_bot.config import Settings
from support_bot.sessions import create_store
from support_bot.sessions.redis import RedisSessionStore

from store_contract import (
    check_bad_answers_keep_the_session_usable,
    check_key_budget_shared_across_processes,
    check_store_contract,
    check_values_expire,
)

REDIS_URL = os.environ.get("REDIS_URL", "")
live = pytest.mark.skipif(
    not REDIS_URL, reason="REDIS_URL is not set: no live Redis to test against"
)


@pytest.fixture
async def store() -> AsyncIterator[RedisSessionStore]:
    store = RedisSessionStore(REDIS_URL, max_messages=4, prefix=f"test-{uuid.uuid4().hex}:")
    await store.connect()
    yield store
    keys = [key async for key in store.client.scan_iter(match=f"{store.prefix}*")]
    if keys:
        await store.client.delete(*keys)
    await store.close()


@live
async def test_redis_store_contract(store: RedisSessionStore) -> None:
    await check_store_contract(store)


@live
async def test_redis_session_survives_bad_answers(store: RedisSessionStore) -> None:
    store.max_messages = 50
    await check_bad_answers_keep_the_session_usable(store)


@live
async def test_redis_key_budget_is_shared_across_processes(store: RedisSessionStore) -> None:
    await check_key_budget_shared_across_processes(
        store,
        imports="from support_bot.sessions.redis import RedisSessionStore",
        store_expression=f"RedisSessionStore({REDIS_URL!r}, max_messages=4, prefix={store.prefix!r})",
    )


@live
async def test_redis_counter_has_ttl(store: RedisSessionStore) -> None:
    await store.incr("ttl", 1, 60)
    ttl = await store.client.ttl(f"{store.prefix}counter:ttl")
    assert 0 < ttl <= 60


async def test_redis_unreachable_fails_fast() -> None:
    store = RedisSessionStore(
        "redis://127.0.0.1:1/0", max_messages=4, connect_attempts=2, retry_delay=0
    )
    with pytest.raises(RedisConnectionError):
        await store.connect()
    assert await store.ping() is False
    await store.close()


def test_create_store_picks_redis() -> None:
    settings = Settings(_env_file=None, session_store="redis", redis_url="redis://localhost:6379/0")
    assert isinstance(create_store(settings), RedisSessionStore)


def test_redis_url_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ValueError, match="REDIS_URL"):
        Settings(_env_file=None, session_store="redis")


@live
async def test_redis_values_expire(store: RedisSessionStore) -> None:
    await check_values_expire(store)
