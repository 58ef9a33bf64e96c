"""Budgets per API key and per user, key ids, prices and cached tokens (no HTTP)."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime

import pytest

from durable_conversation_ledger_agent_europe import observability
from durable_conversation_ledger_agent_europe.agent.budget import TokenBudget
from durable_conversation_ledger_agent_europe.agent.fake import FakeChatModel
from durable_conversation_ledger_agent_europe.agent.key_budget import (
    OTHER_KEYS_LABEL,
    KeyBudgets,
    current_owner,
    key_id,
)
from durable_conversation_ledger_agent_europe.agent.llm import (
    _StreamedAnswer,
    parse_chunk,
    parse_completion,
)
from durable_conversation_ledger_agent_europe.agent.loop import Agent, AgentLimits
from durable_conversation_ledger_agent_europe.agent.pricing import cost_usd
from durable_conversation_ledger_agent_europe.agent.schemas import ChatRequest
from durable_conversation_ledger_agent_europe.agent.tools import default_registry
from durable_conversation_ledger_agent_europe.config import ModelPrice
from durable_conversation_ledger_agent_europe.sessions.memory import MemorySessionStore
from durable_conversation_ledger_agent_europe.web.errors import BudgetExceeded

NOON = datetime(2030, 5, 1, 12, 0, 0, tzinfo=UTC)
KEY = "sk-test-key-number-one"
OTHER_KEY = "sk-test-key-number-two"


def budgets(store: MemorySessionStore, **kwargs: object) -> KeyBudgets:
    values: dict[str, object] = {"api_keys": (KEY, OTHER_KEY), "clock": lambda: NOON}
    values.update(kwargs)
    return KeyBudgets(store, **values)  # type: ignore[arg-type]


def test_key_id_is_stable_short_and_not_the_key() -> None:
    ident = key_id(KEY)
    assert ident == key_id(KEY)
    assert len(ident) == 16
    int(ident, 16)
    assert KEY not in ident
    assert ident not in KEY
    assert key_id(OTHER_KEY) != ident
    # keyed: without the secret the id cannot be recomputed from a guessed key
    assert key_id(KEY, "secret-one") != key_id(KEY, "secret-two")
    assert key_id(KEY, "secret-one") == key_id(KEY, "secret-one")
    assert ident != hashlib.sha256(KEY.encode()).hexdigest()[:16]


async def test_key_budget_refuses_at_exactly_the_limit() -> None:
    store = MemorySessionStore(10)
    key_budgets = budgets(store, key_limit=100)
    await key_budgets.admit(KEY, spends_tokens=True)
    await key_budgets.consume(99, None)
    await key_budgets.admit(KEY, spends_tokens=True)  # 99 < 100: admitted
    await key_budgets.consume(1, None)
    with pytest.raises(BudgetExceeded) as caught:
        await key_budgets.admit(KEY, spends_tokens=True)
    assert caught.value.headers["Retry-After"] == str(12 * 3600)
    # the spent key does not stop another key, nor the requests that spend nothing
    await key_budgets.admit(OTHER_KEY, spends_tokens=True)
    await key_budgets.admit(KEY, spends_tokens=False)
    usage = await key_budgets.key_usage(key_id(KEY), NOON)
    assert (usage.used_tokens, usage.limit_tokens, usage.remaining_tokens) == (100, 100, 0)
    # the counter holds the key id, never the key
    assert all(KEY not in name for name in store._counters)


async def test_key_budget_resets_at_the_next_utc_day() -> None:
    store = MemorySessionStore(10)
    now = [NOON]
    key_budgets = budgets(store, key_limit=10, clock=lambda: now[0])
    await key_budgets.admit(KEY, spends_tokens=True)
    await key_budgets.consume(10, None)
    with pytest.raises(BudgetExceeded):
        await key_budgets.admit(KEY, spends_tokens=True)
    now[0] = datetime(2030, 5, 2, 0, 0, 1, tzinfo=UTC)
    await key_budgets.admit(KEY, spends_tokens=True)


async def test_key_budget_warns_once_with_the_key_id_and_sets_the_gauge(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    ratios: list[tuple[str, float]] = []
    monkeypatch.setattr(
        observability, "set_key_budget_ratio", lambda key, ratio: ratios.append((key, ratio))
    )
    key_budgets = budgets(MemorySessionStore(10), key_limit=100, warning_ratio=0.5)
    await key_budgets.admit(KEY, spends_tokens=True)
    with caplog.at_level(logging.WARNING):
        await key_budgets.consume(40, None)
        await key_budgets.consume(20, None)
        await key_budgets.consume(20, None)
    warnings = [r for r in caplog.records if "token budget above 50 percent" in r.getMessage()]
    assert len(warnings) == 1
    assert getattr(warnings[0], "key_id", None) == key_id(KEY)
    assert KEY not in caplog.text
    # admit() sets it from the counter, each turn's spending after it
    assert ratios == [(key_id(KEY), ratio) for ratio in (0.0, 0.4, 0.6, 0.8)]


async def test_key_labels_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    ratios: dict[str, float] = {}
    monkeypatch.setattr(observability, "set_key_budget_ratio", ratios.__setitem__)
    keys = tuple(f"sk-bounded-key-{index}" for index in range(4))
    key_budgets = KeyBudgets(MemorySessionStore(10), api_keys=keys, key_limit=10, metric_keys_max=2)
    for key, tokens in zip(keys, (1, 2, 7, 3), strict=True):
        await key_budgets.admit(key, spends_tokens=True)
        await key_budgets.consume(tokens, None)
    # the first two keys by their ids, the later ones as one label: their highest ratio
    assert ratios == {key_id(keys[0]): 0.1, key_id(keys[1]): 0.2, OTHER_KEYS_LABEL: 0.7}


async def test_user_budgets_only_when_user_ids_are_trusted() -> None:
    store = MemorySessionStore(10)
    untrusted = budgets(store, user_limit=5, trust_user_id=False)
    await untrusted.admit(KEY, spends_tokens=True)
    await untrusted.consume(50, "u_1")
    await untrusted.check_user("u_1")

    trusted = budgets(store, user_limit=5, trust_user_id=True)
    await trusted.admit(KEY, spends_tokens=True)
    await trusted.consume(5, "u_1")
    with pytest.raises(BudgetExceeded):
        await trusted.check_user("u_1")
    await trusted.check_user("u_2")
    await trusted.check_user(None)
    # the same user_id under another key is another user
    await trusted.admit(OTHER_KEY, spends_tokens=True)
    await trusted.check_user("u_1")


async def test_the_agent_spends_on_the_callers_key_budget() -> None:
    store = MemorySessionStore(10)
    key_budgets = budgets(store, key_limit=10**6)
    agent = Agent(
        FakeChatModel(),
        default_registry(),
        store,
        TokenBudget(store, 0),
        AgentLimits(),
        key_budgets=key_budgets,
    )
    await key_budgets.admit(KEY, spends_tokens=True)
    response = await agent.run(ChatRequest(message="hello"), trace_id="t")
    spent = response.usage.input_tokens + response.usage.output_tokens
    assert spent > 0
    assert (await key_budgets.key_usage(key_id(KEY), NOON)).used_tokens == spent
    assert (await key_budgets.key_usage(key_id(OTHER_KEY), NOON)).used_tokens == 0
    current_owner.set(None)


def test_cost_arithmetic() -> None:
    prices = {
        "gpt-x": ModelPrice(input=2.5, output=10, cached_input=1.25),
        "no-cache-price": ModelPrice(input=2, output=8),
    }
    # 800 uncached at 2.5, 200 cached at 1.25, 500 output at 10 (USD per million)
    cost = cost_usd(prices, "gpt-x", input_tokens=1000, cached_input_tokens=200, output_tokens=500)
    assert cost == pytest.approx(0.00725)
    # no cached price: cached tokens cost the input price
    cost = cost_usd(
        prices, "no-cache-price", input_tokens=1000, cached_input_tokens=400, output_tokens=0
    )
    assert cost == pytest.approx(0.002)
    # cached tokens never exceed the input tokens
    cost = cost_usd(prices, "gpt-x", input_tokens=10, cached_input_tokens=50, output_tokens=0)
    assert cost == pytest.approx(10 * 1.25 / 1e6)
    assert (
        cost_usd(prices, "unpriced", input_tokens=1, cached_input_tokens=0, output_tokens=1) is None
    )


async def test_the_turn_reports_cost_and_cached_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    costs: list[tuple[str, float]] = []
    tokens: list[tuple[object, ...]] = []
    monkeypatch.setattr(observability, "record_cost", lambda m, usd: costs.append((m, usd)))
    monkeypatch.setattr(
        observability,
        "record_tokens",
        lambda m, i, o, cached_input_tokens=0: tokens.append((m, i, o, cached_input_tokens)),
    )
    store = MemorySessionStore(50)
    prices = {"fake": ModelPrice(input=1, output=2, cached_input=0.5)}
    agent = Agent(
        FakeChatModel(),
        default_registry(),
        store,
        TokenBudget(store, 0),
        AgentLimits(),
        prices=prices,
    )
    first = await agent.run(ChatRequest(message="hello", session_id="s1"), trace_id="t")
    assert first.usage.cached_input_tokens == 0
    assert first.usage.cost_usd == pytest.approx(
        (first.usage.input_tokens + 2 * first.usage.output_tokens) / 1e6
    )
    # the second turn's prefix (system prompt, first turn) was sent before: cached
    second = await agent.run(ChatRequest(message="again", session_id="s1"), trace_id="t")
    usage = second.usage
    assert 0 < usage.cached_input_tokens < usage.input_tokens
    expected = (
        (usage.input_tokens - usage.cached_input_tokens) * 1
        + usage.cached_input_tokens * 0.5
        + usage.output_tokens * 2
    ) / 1e6
    assert usage.cost_usd == pytest.approx(expected)
    assert [m for m, _ in costs] == ["fake", "fake"]
    assert first.usage.cost_usd is not None
    assert sum(usd for _, usd in costs) == pytest.approx(first.usage.cost_usd + expected)
    # the metric's token types are disjoint: input excludes the cached tokens
    assert tokens[-1] == (
        "fake",
        usage.input_tokens - usage.cached_input_tokens,
        usage.output_tokens,
        usage.cached_input_tokens,
    )
    unpriced = Agent(
        FakeChatModel(), default_registry(), store, TokenBudget(store, 0), AgentLimits()
    )
    assert (await unpriced.run(ChatRequest(message="hello"), trace_id="t")).usage.cost_usd is None


def test_cached_tokens_are_read_from_the_usage() -> None:
    body = {
        "choices": [{"message": {"content": "hi"}}],
        "usage": {
            "prompt_tokens": 1200,
            "completion_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 1024},
        },
    }
    completion = parse_completion(json.dumps(body).encode(), [])
    assert (completion.input_tokens, completion.cached_input_tokens) == (1200, 1024)
    body["usage"] = {"prompt_tokens": 10, "prompt_tokens_details": {"cached_tokens": 99}}
    assert parse_completion(json.dumps(body).encode(), []).cached_input_tokens == 10
    body["usage"] = {"prompt_tokens": 10, "prompt_tokens_details": None}
    assert parse_completion(json.dumps(body).encode(), []).cached_input_tokens == 0

    answer = _StreamedAnswer()
    answer.add(parse_chunk('{"choices": [{"delta": {"content": "hi"}, "finish_reason": "stop"}]}'))
    answer.add(
        parse_chunk(
            '{"choices": [], "usage": {"prompt_tokens": 300, "completion_tokens": 2,'
            ' "prompt_tokens_details": {"cached_tokens": 256}}}'
        )
    )
    streamed = answer.completion([])
    assert (streamed.input_tokens, streamed.cached_input_tokens) == (300, 256)


def test_prices_config_object() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        ModelPrice(input=-1, output=0)
    with pytest.raises(ValueError, match="finite"):
        ModelPrice(input=float("inf"), output=0)
