"""Behaviour every session store shares; each store's test module runs it."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

import httpx
import pytest

from archive_agent.agent.budget import TokenBudget
from archive_agent.agent.key_budget import KeyBudgets, key_id
from archive_agent.agent.llm import OpenAIChatModel
from archive_agent.agent.loop import Agent, AgentLimits
from archive_agent.agent.schemas import ChatRequest
from archive_agent.agent.tools import default_registry
from archive_agent.sessions.base import SessionStore
from archive_agent.web.errors import BudgetExceeded

# Raw bodies: a lone surrogate and a NUL can only come as JSON escapes.
BAD_ANSWERS = (
    b'{"choices": [{"message": {"content": "half a pair \\ud800 here"}}]}',
    b'{"choices": [{"message": {"content": "a NUL \\u0000 here"}}]}',
    b'{"choices": [{"message": {"content": "\\udfff\\u0000"}}]}',
)
GOOD_ANSWER = b'{"choices": [{"message": {"content": "all good"}}]}'


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

    # values with a TTL (the response cache)
    value_key = f"value-{uuid.uuid4().hex}"
    assert await store.get_value(value_key) is None
    await store.set_value(value_key, '{"answer": "ünïcode ✓"}', 60)
    assert await store.get_value(value_key) == '{"answer": "ünïcode ✓"}'
    await store.set_value(value_key, "replaced", 60)
    assert await store.get_value(value_key) == "replaced"
    assert await store.get_value(f"value-{uuid.uuid4().hex}") is None


async def check_values_expire(store: SessionStore) -> None:
    """A value is gone once its TTL passed (a real second on a live server)."""
    key = f"value-{uuid.uuid4().hex}"
    await store.set_value(key, "soon gone", 1)
    assert await store.get_value(key) == "soon gone"
    await asyncio.sleep(1.2)
    assert await store.get_value(key) is None


async def check_bad_answers_keep_the_session_usable(store: SessionStore) -> None:
    """A lone surrogate or a NUL from the model never poisons the session."""
    answers = iter([*BAD_ANSWERS, GOOD_ANSWER])
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(200, content=next(answers))

    model = OpenAIChatModel(
        base_url="http://mock/v1",
        api_key="k",
        model="mock",
        timeout=5,
        max_retries=0,
        transport=httpx.MockTransport(handler),
    )
    agent = Agent(model, default_registry(), store, TokenBudget(store, 0), AgentLimits())
    session = f"test-{uuid.uuid4().hex}"
    for turn in range(len(BAD_ANSWERS) + 1):
        response = await agent.run(
            ChatRequest(message=f"turn {turn}", session_id=session), trace_id="0" * 32
        )
        json.dumps(response.model_dump()).encode()  # valid text, as every client needs
    await model.aclose()
    assert response.answer == "all good"
    history = await store.load(session)
    assert [m["content"] for m in history if m["role"] == "assistant"][-4:] == [
        "half a pair \ufffd here",
        "a NUL \ufffd here",
        "\ufffd\ufffd",
        "all good",
    ]
    assert "\ufffd".encode() in sent[-1]  # the history went back to the model, readable


# One process spending on a key's budget: argv = the key, the turns, the tokens
# per turn. ``{store}`` is an expression building the store under test.
SPENDER = """
import asyncio, sys
{imports}
from archive_agent.agent.key_budget import KeyBudgets

async def main() -> None:
    store = {store}
    await store.connect()
    key, turns, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    budgets = KeyBudgets(store, api_keys=(key,), key_limit=10**9)
    await budgets.admit(key, spends_tokens=True)
    await asyncio.gather(*(budgets.consume(tokens, None) for _ in range(turns)))
    await store.close()

asyncio.run(main())
"""


async def check_key_budget_shared_across_processes(
    store: SessionStore, *, imports: str, store_expression: str
) -> None:
    """Two processes spend on one key's budget at once; this one sees the sum,
    and the 429 comes at exactly the limit."""
    key = f"sk-shared-{uuid.uuid4().hex}"
    turns, tokens = 40, 3
    code = SPENDER.format(imports=imports, store=store_expression)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, key, str(turns), str(tokens)
        )
        for _ in range(2)
    ]
    assert [await process.wait() for process in processes] == [0, 0]
    spent = 2 * turns * tokens
    at_limit = KeyBudgets(store, api_keys=(key,), key_limit=spent)
    usage = await at_limit.key_usage(key_id(key), at_limit.now())
    assert usage.used_tokens == spent
    with pytest.raises(BudgetExceeded):
        await at_limit.admit(key, spends_tokens=True)
    await KeyBudgets(store, api_keys=(key,), key_limit=spent + 1).admit(key, spends_tokens=True)
