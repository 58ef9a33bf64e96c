from __future__ import annotations

from durable_conversation_ledger_agent_europe.config import Settings
from durable_conversation_ledger_agent_europe.sessions import MemorySessionStore, create_store

from store_contract import check_store_contract


async def test_memory_store_contract() -> None:
    store = MemorySessionStore(max_messages=4)
    await store.connect()
    await check_store_contract(store)
    await store.close()


async def test_memory_counters_expire() -> None:
    now = [100.0]
    store = MemorySessionStore(max_messages=4, clock=lambda: now[0])
    assert await store.incr("k", 3, ttl_seconds=10) == 3
    now[0] += 11
    assert await store.get_counter("k") == 0
    assert await store.incr("k", 1, ttl_seconds=10) == 1


async def test_memory_store_is_bounded() -> None:
    now = [0.0]
    store = MemorySessionStore(max_messages=4, clock=lambda: now[0], max_sessions=2)
    for name in ("a", "b", "c"):
        await store.append(name, [{"role": "user", "content": name}])
    assert await store.load("a") == []
    assert [m["content"] for m in await store.load("c")] == ["c"]
    for i in range(1100):
        await store.incr(f"k{i}", 1, ttl_seconds=1)
    now[0] += 2
    await store.incr("fresh", 1, ttl_seconds=1)
    assert len(store._counters) < 1100


async def test_loaded_history_is_a_copy() -> None:
    store = MemorySessionStore(max_messages=4)
    await store.append("s", [{"role": "user", "content": "a"}])
    (await store.load("s"))[0]["content"] = "changed"
    assert (await store.load("s"))[0]["content"] == "a"


def test_create_store_defaults_to_memory() -> None:
    store = create_store(Settings(_env_file=None))
    assert isinstance(store, MemorySessionStore)
