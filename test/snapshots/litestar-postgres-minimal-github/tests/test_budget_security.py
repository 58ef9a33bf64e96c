from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from archive_agent.agent.budget import (
    TokenBudget,
    seconds_to_utc_midnight,
)
from archive_agent.sessions.memory import MemorySessionStore
from archive_agent.web.errors import (
    BudgetExceeded,
    RateLimited,
    Unauthorized,
)
from archive_agent.web.security import (
    RateLimiter,
    authenticate,
    extract_api_key,
    fingerprint,
    key_matches,
)

NOON = datetime(2030, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_seconds_to_midnight() -> None:
    assert seconds_to_utc_midnight(NOON) == 12 * 3600
    assert seconds_to_utc_midnight(datetime(2030, 5, 1, 23, 59, 59, 900000, tzinfo=UTC)) == 1


async def test_budget_warns_once_at_80_percent_and_stops_at_100(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemorySessionStore(10)
    budget = TokenBudget(store, 100, clock=lambda: NOON)
    await budget.check()
    await budget.consume(50)
    await budget.consume(0)
    assert "token budget" not in caplog.text
    with caplog.at_level(logging.WARNING):
        await budget.consume(35)
        await budget.consume(5)
    assert caplog.text.count("token budget above 80 percent") == 1
    await budget.check()
    await budget.consume(10)
    with pytest.raises(BudgetExceeded) as caught:
        await budget.check()
    assert caught.value.headers["Retry-After"] == str(12 * 3600)
    assert caught.value.code == "budget_exceeded"


async def test_budget_resets_each_utc_day() -> None:
    store = MemorySessionStore(10)
    now = [NOON]
    budget = TokenBudget(store, 10, clock=lambda: now[0])
    await budget.consume(10)
    with pytest.raises(BudgetExceeded):
        await budget.check()
    now[0] = datetime(2030, 5, 2, 0, 0, 1, tzinfo=UTC)
    await budget.check()


async def test_disabled_budget_does_nothing() -> None:
    store = MemorySessionStore(10)
    budget = TokenBudget(store, 0)
    assert not budget.enabled
    await budget.consume(10**9)
    await budget.check()
    assert await store.get_counter(f"budget:{datetime.now(UTC).date().isoformat()}") == 0


@pytest.mark.parametrize(
    ("authorization", "x_api_key", "expected"),
    [
        ("Bearer abc", None, "abc"),
        ("bearer  abc ", None, "abc"),
        ("Basic abc", None, None),
        ("Bearer ", "xyz", "xyz"),
        (None, " xyz ", "xyz"),
        (None, None, None),
        (None, "  ", None),
    ],
)
def test_extract_api_key(
    authorization: str | None, x_api_key: str | None, expected: str | None
) -> None:
    assert extract_api_key(authorization, x_api_key) == expected


def test_authenticate() -> None:
    keys = ("one", "two")
    assert key_matches("two", keys)
    assert not key_matches("three", keys)
    assert authenticate("Bearer one", None, keys) == "one"
    assert authenticate(None, "two", keys) == "two"
    for auth, header in (("Bearer nope", None), (None, None)):
        with pytest.raises(Unauthorized) as caught:
            authenticate(auth, header, keys)
        assert caught.value.headers == {"WWW-Authenticate": "Bearer"}


async def test_rate_limiter_windows() -> None:
    now = [120.0]
    limiter = RateLimiter(MemorySessionStore(10), 2, clock=lambda: now[0])
    await limiter.hit("a")
    await limiter.hit("a")
    await limiter.hit("b")
    with pytest.raises(RateLimited) as caught:
        await limiter.hit("a")
    assert caught.value.headers["Retry-After"] == "60"
    now[0] = 181.0
    await limiter.hit("a")
    await RateLimiter(MemorySessionStore(10), 0).hit("x")
    assert len(fingerprint("secret")) == 16
    assert "secret" not in fingerprint("secret")
