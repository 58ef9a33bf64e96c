from __future__ import annotations

from my_agent.config import Settings
from my_agent.sessions import MemorySessionStore, create_store

from store_contract import check_bad_answers_keep_the_session_usable, check_store_contract


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


async def test_memory_store_is_bounded_by_bytes() -> None:
    big = "x" * 1000
    store = MemorySessionStore(max_messages=50, max_bytes=5000)
    for name in ("a", "b", "c"):
        await store.append(
            name, [{"role": "user", "content": big}, {"role": "assistant", "content": big}]
        )
    assert store.size_bytes <= 5000
    assert await store.load("a") == []  # the least recently used session went first
    assert len(await store.load("c")) == 2
    # one session larger than the bound keeps its newest messages
    await store.append("c", [{"role": "user", "content": str(i) * 1000} for i in range(10)])
    history = await store.load("c")
    assert store.size_bytes <= 5000
    assert history[-1]["content"] == "9" * 1000
    assert await store.load("b") == []


async def test_memory_session_survives_bad_answers() -> None:
    await check_bad_answers_keep_the_session_usable(MemorySessionStore(max_messages=50))


async def test_memory_values_expire_and_are_bounded() -> None:
    now = [100.0]
    store = MemorySessionStore(max_messages=4, clock=lambda: now[0], max_value_bytes=100)
    await store.set_value("a", "x" * 40, ttl_seconds=10)
    now[0] += 11
    assert await store.get_value("a") is None
    await store.set_value("b", "y" * 40, ttl_seconds=10)
    await store.set_value("c", "z" * 40, ttl_seconds=10)
    await store.set_value("d", "w" * 40, ttl_seconds=10)  # over 100 bytes: the oldest goes
    assert await store.get_value("b") is None
    assert await store.get_value("d") == "w" * 40
    assert store._value_bytes <= 100
