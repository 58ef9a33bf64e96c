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


@live
async def test_services_sharing_one_redis_keep_apart_by_key_prefix() -> None:
    def settings(prefix: str) -> Settings:
        return Settings(
            _env_file=None, session_store="redis", redis_url=REDIS_URL, redis_key_prefix=prefix
        )

    run = uuid.uuid4().hex
    one, two = (create_store(settings(f"test-{run}-{name}:")) for name in ("one", "two"))
    assert isinstance(one, RedisSessionStore)
    assert isinstance(two, RedisSessionStore)
    await one.connect()
    await two.connect()
    try:
        await one.incr("budget:service:today", 5, 60)
        await one.set_value("cached", "from one", 60)
        await one.append("s1", [{"role": "user", "content": "hi"}])
        assert await two.get_counter("budget:service:today") == 0
        assert await two.get_value("cached") is None
        assert await two.load("s1") == []
        assert await one.get_counter("budget:service:today") == 5
        keys = [key async for key in one.client.scan_iter(match=f"test-{run}-*")]
        assert keys
        assert all(str(key).startswith(f"test-{run}-one:") for key in keys)
    finally:
        for store in (one, two):
            async for key in store.client.scan_iter(match=f"{store.prefix}*"):
                await store.client.delete(key)
            await store.close()


def test_redis_key_prefix_is_validated() -> None:
    with pytest.raises(ValueError, match="redis_key_prefix"):
        Settings(
            _env_file=None,
            session_store="redis",
            redis_url="redis://localhost:6379/0",
            redis_key_prefix="has space",
        )


def test_redis_url_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ValueError, match="REDIS_URL"):
        Settings(_env_file=None, session_store="redis")


@live
async def test_redis_values_expire(store: RedisSessionStore) -> None:
    await check_values_expire(store)
