"""A store outage: 503 store_unavailable, one log line when it starts and one when it ends."""

from __future__ import annotations

import logging

import pytest

from durable_conversation_ledger_agent_europe.sessions.guard import GuardedStore
from durable_conversation_ledger_agent_europe.sessions.memory import MemorySessionStore
from durable_conversation_ledger_agent_europe.web.errors import StoreUnavailable


class FlakyStore(MemorySessionStore):
    """A memory store that fails like an unreachable server while ``down``."""

    outage_errors = (ConnectionRefusedError,)

    def __init__(self) -> None:
        super().__init__(max_messages=10)
        self.down = False

    async def load(self, session_id: str) -> list[dict[str, object]]:
        if self.down:
            raise ConnectionRefusedError("connection refused")
        return await super().load(session_id)

    async def get_counter(self, key: str) -> int:
        if self.down:
            raise RuntimeError("a bug, not an outage")
        return await super().get_counter(key)


async def test_an_outage_is_store_unavailable_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = FlakyStore()
    store = GuardedStore(inner)
    assert store.name == "memory"
    await store.append("s", [{"role": "user", "content": "kept"}])
    inner.down = True
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            with pytest.raises(StoreUnavailable):
                await store.load("s")
        assert store.in_outage
        inner.down = False
        assert [m["content"] for m in await store.load("s")] == ["kept"]
        assert not store.in_outage
    lines = [r for r in caplog.records if r.name.endswith("sessions.guard")]
    assert [r.getMessage() for r in lines] == [
        "session store unavailable",
        "session store available again",
    ]
    assert lines[1].__dict__["failed_calls"] == 5
    assert not any(r.exc_info for r in lines)


async def test_other_errors_are_not_outages() -> None:
    inner = FlakyStore()
    inner.down = True
    with pytest.raises(RuntimeError):
        await GuardedStore(inner).get_counter("k")
