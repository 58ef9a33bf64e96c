"""Behaviour every session store shares; each store's test module runs it."""

from __future__ import annotations

import uuid

from durable_conversation_ledger_agent_europe.sessions.base import SessionStore


async def check_store_contract(store: SessionStore) -> None:
    assert await store.ping() is True
    session = f"test-{uuid.uuid4().hex}"
    assert await store.load(session) == []

    await store.append(session, [{"role": "user", "content": "hello"}])
    await store.append(session, [])
    await store.append(
        session,
        [
            {"role": "assistant", "content": "hi"},
            {"role": "user", "content": "ünïcode ✓"},
        ],
    )
    history = await store.load(session)
    assert [m["content"] for m in history] == ["hello", "hi", "ünïcode ✓"]

    # trimmed to the newest max_messages
    many = [{"role": "user", "content": str(i)} for i in range(store.max_messages + 3)]
    await store.append(session, many)
    history = await store.load(session)
    assert len(history) == store.max_messages
    assert history[-1]["content"] == str(store.max_messages + 2)

    other = f"test-{uuid.uuid4().hex}"
    assert await store.load(other) == []

    counter = f"counter-{uuid.uuid4().hex}"
    assert await store.get_counter(counter) == 0
    assert await store.incr(counter, 5, 60) == 5
    assert await store.incr(counter, 2, 60) == 7
    assert await store.get_counter(counter) == 7
