"""Behaviour every session store shares; each store's test module runs it."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx

from durable_conversation_ledger_agent_europe.agent.budget import TokenBudget
from durable_conversation_ledger_agent_europe.agent.llm import OpenAIChatModel
from durable_conversation_ledger_agent_europe.agent.loop import Agent, AgentLimits
from durable_conversation_ledger_agent_europe.agent.schemas import ChatRequest
from durable_conversation_ledger_agent_europe.agent.tools import default_registry
from durable_conversation_ledger_agent_europe.sessions.base import SessionStore

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
