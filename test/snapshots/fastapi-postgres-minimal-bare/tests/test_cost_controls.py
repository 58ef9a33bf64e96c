"""Cost controls in the agent loop: fallback models, prompt-cache-stable
requests, token-aware context trimming and the response cache.

The model endpoints are local fakes (httpx.MockTransport), one per model.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from durable_conversation_ledger_agent_europe import observability
from durable_conversation_ledger_agent_europe.agent import context_window
from durable_conversation_ledger_agent_europe.agent.budget import TokenBudget
from durable_conversation_ledger_agent_europe.agent.fake import FakeChatModel
from durable_conversation_ledger_agent_europe.agent.key_budget import (
    BudgetOwner,
    current_owner,
    key_id,
)
from durable_conversation_ledger_agent_europe.agent.llm import (
    ChatModel,
    Message,
    ModelUnavailable,
    OpenAIChatModel,
)
from durable_conversation_ledger_agent_europe.agent.loop import Agent, AgentLimits, stream_events
from durable_conversation_ledger_agent_europe.agent.response_cache import (
    ResponseCache,
    normalise,
)
from durable_conversation_ledger_agent_europe.agent.schemas import ChatRequest
from durable_conversation_ledger_agent_europe.agent.tools import default_registry
from durable_conversation_ledger_agent_europe.config import FallbackModel, parse_fallback_model
from durable_conversation_ledger_agent_europe.sessions.memory import MemorySessionStore
from durable_conversation_ledger_agent_europe.web.errors import UpstreamError, UpstreamTimeout
from durable_conversation_ledger_agent_europe.web.services import (
    create_cheap_model,
    create_fallback_models,
)

from conftest import make_settings

Handler = Callable[[httpx.Request], httpx.Response]


async def no_sleep(seconds: float) -> None:
    return None


def endpoint(name: str, handler: Handler, *, timeout: float = 5) -> OpenAIChatModel:
    return OpenAIChatModel(
        base_url=f"http://{name}.test/v1",
        api_key="k",
        model=name,
        timeout=timeout,
        max_retries=1,
        transport=httpx.MockTransport(handler),
        sleep=no_sleep,
    )


def answer(text: str, prompt_tokens: int = 10) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "choices": [{"message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 3},
        },
    )


def tool_call(call_id: str = "call_1") -> httpx.Response:
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": "calculator", "arguments": '{"expression": "6*7"}'},
    }
    return httpx.Response(
        200,
        json={
            "choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [call]}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 3},
        },
    )


def sse(*texts: str) -> bytes:
    chunks: list[dict[str, Any]] = [{"choices": [{"delta": {"content": text}}]} for text in texts]
    chunks.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
    body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    return body.encode()


def make_agent(
    model: ChatModel,
    *fallbacks: ChatModel,
    store: MemorySessionStore | None = None,
    cache_ttl: int = 0,
    cache_shared: bool = False,
    **limits: Any,
) -> Agent:
    store = store or MemorySessionStore(max_messages=50)
    return Agent(
        model=model,
        tools=default_registry(),
        store=store,
        budget=TokenBudget(store, 0),
        limits=AgentLimits(**limits),
        fallbacks=fallbacks,
        response_cache=ResponseCache(
            store,
            cache_ttl,
            shared_across_keys=cache_shared,
            fingerprint=[model.name, *(m.name for m in fallbacks)],
        ),
    )


class LlmCalls:
    """What ``observability.llm_call`` was asked to record: (model label, status)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    @contextmanager
    def __call__(self, model: str) -> Iterator[Any]:
        calls = self.calls

        class Recorder:
            status = "ok"

            def set_status(self, status: str) -> None:
                self.status = status

            def set_usage(self, input_tokens: int, output_tokens: int) -> None:
                return None

        recorder = Recorder()
        try:
            yield recorder
        finally:
            calls.append((model, recorder.status))


@pytest.fixture
def llm_calls(monkeypatch: pytest.MonkeyPatch) -> LlmCalls:
    spy = LlmCalls()
    monkeypatch.setattr(observability, "llm_call", spy)
    return spy


# --- fallback models -----------------------------------------------------------------


def _connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused")


def _read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("too slow")


FAILURES: dict[str, Handler] = {
    "5xx": lambda request: httpx.Response(503),
    "429 with a Retry-After past the limit": lambda request: httpx.Response(
        429, headers={"Retry-After": "120"}
    ),
    "429 after the retries": lambda request: httpx.Response(429),
    "connection refused": _connect_error,
    "timeout": _read_timeout,
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
async def test_each_failure_class_falls_back_to_the_next_model(
    failure: str, llm_calls: LlmCalls, caplog: pytest.LogCaptureFixture
) -> None:
    primary = endpoint("primary", FAILURES[failure])
    spare = endpoint("spare", lambda request: answer("from the spare"))
    with caplog.at_level(logging.INFO, logger="durable_conversation_ledger_agent_europe.agent"):
        response = await make_agent(primary, spare).run(ChatRequest(message="hi"), trace_id="t")
    assert response.answer == "from the spare"
    assert response.model == "spare"
    assert llm_calls.calls == [("primary", "error"), ("spare", "ok")]
    turn = next(r for r in caplog.records if r.getMessage() == "turn finished")
    assert turn.__dict__["model"] == "spare"
    assert any(r.getMessage() == "model failed, trying the fallback model" for r in caplog.records)


async def test_a_retry_after_longer_than_the_turn_has_left_falls_back() -> None:
    primary = endpoint(
        "primary", lambda request: httpx.Response(429, headers={"Retry-After": "20"})
    )
    spare = endpoint("spare", lambda request: answer("in time"))
    started = time.monotonic()
    response = await make_agent(primary, spare, request_timeout=5).run(
        ChatRequest(message="hi"), trace_id="t"
    )
    assert response.model == "spare"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "response",
    [httpx.Response(400, json={"error": "bad"}), httpx.Response(200, content=b"not json")],
    ids=["4xx", "malformed"],
)
async def test_a_4xx_or_a_malformed_answer_does_not_fall_back(response: httpx.Response) -> None:
    spare_calls: list[httpx.Request] = []

    def spare_handler(request: httpx.Request) -> httpx.Response:
        spare_calls.append(request)
        return answer("never")

    primary = endpoint("primary", lambda request: response)
    with pytest.raises(UpstreamError) as caught:
        await make_agent(primary, endpoint("spare", spare_handler)).run(
            ChatRequest(message="hi"), trace_id="t"
        )
    assert not isinstance(caught.value, ModelUnavailable)
    assert spare_calls == []


async def test_the_last_model_failing_is_the_error_and_the_chain_is_in_order(
    llm_calls: LlmCalls,
) -> None:
    models = [endpoint(name, lambda request: httpx.Response(502)) for name in ("a", "b", "c")]
    with pytest.raises(UpstreamError):
        await make_agent(*models).run(ChatRequest(message="hi"), trace_id="t")
    assert llm_calls.calls == [("a", "error"), ("b", "error"), ("c", "error")]
    timeouts = [endpoint(name, _read_timeout) for name in ("a", "b")]
    with pytest.raises(UpstreamTimeout):
        await make_agent(*timeouts).run(ChatRequest(message="hi"), trace_id="t")


async def test_within_a_turn_the_fallback_is_sticky(llm_calls: LlmCalls) -> None:
    primary_calls: list[int] = []

    def primary_handler(request: httpx.Request) -> httpx.Response:
        primary_calls.append(1)
        return httpx.Response(500)

    def spare_handler(request: httpx.Request) -> httpx.Response:
        last = json.loads(request.content)["messages"][-1]
        return answer(f"It is {last['content']}.") if last["role"] == "tool" else tool_call()

    agent = make_agent(endpoint("primary", primary_handler), endpoint("spare", spare_handler))
    response = await agent.run(ChatRequest(message="what is 6*7"), trace_id="t")
    assert response.answer == "It is 42."
    assert len(primary_calls) == 2  # one call and its one retry, in the first step only
    assert llm_calls.calls == [("primary", "error"), ("spare", "ok"), ("spare", "ok")]
    # the next turn starts at the primary again
    await agent.run(ChatRequest(message="again", session_id=response.session_id), trace_id="t")
    assert len(primary_calls) == 4


async def test_a_stream_falls_back_before_its_first_token() -> None:
    primary = endpoint("primary", lambda request: httpx.Response(503))
    spare = endpoint("spare", lambda request: httpx.Response(200, content=sse("Hi ", "there")))
    events = [
        e
        async for e in stream_events(
            make_agent(primary, spare), ChatRequest(message="x"), trace_id="t"
        )
    ]
    assert [name for name, _ in events] == ["token", "token", "done"]
    assert events[-1][1]["answer"] == "Hi there"
    assert events[-1][1]["model"] == "spare"


async def test_a_stream_never_falls_back_after_a_token_was_sent() -> None:
    spare_calls: list[httpx.Request] = []

    def spare_handler(request: httpx.Request) -> httpx.Response:
        spare_calls.append(request)
        return httpx.Response(200, content=sse("never"))

    def cut_off(request: httpx.Request) -> httpx.Response:
        class Broken(httpx.AsyncByteStream):
            async def __aiter__(self) -> Any:
                yield b'data: {"choices": [{"delta": {"content": "Hal"}}]}\n\n'
                raise httpx.ReadError("connection reset")

        return httpx.Response(200, stream=Broken())

    agent = make_agent(endpoint("primary", cut_off), endpoint("spare", spare_handler))
    events = [e async for e in stream_events(agent, ChatRequest(message="x"), trace_id="t")]
    assert [name for name, _ in events] == ["token", "error"]
    assert events[-1][1]["code"] == "upstream_error"
    assert spare_calls == []


def test_fallback_entries_are_parsed_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARE_KEY", "sk-spare")
    assert parse_fallback_model("gpt-4.1-mini") == FallbackModel("gpt-4.1-mini")
    assert parse_fallback_model(" m | https://other.test/v1/ | SPARE_KEY ") == FallbackModel(
        "m", "https://other.test/v1", "SPARE_KEY"
    )
    settings = make_settings(
        llm_api_key="sk-primary", llm_fallback_models="a, b|https://other.test/v1|SPARE_KEY"
    )
    assert [m.model for m in settings.fallback_models] == ["a", "b"]
    for bad in ("a|ftp://x", "a|https://x|lower", "a|https://x|UNSET_KEY_VARIABLE", "a b", "|x"):
        with pytest.raises(ValueError, match=r"LLM_FALLBACK_MODELS|fallback"):
            make_settings(llm_api_key="sk", llm_fallback_models=bad)
    with pytest.raises(ValueError, match="at most 4"):
        make_settings(llm_api_key="sk", llm_fallback_models="a,b,c,d,e")
    with pytest.raises(ValueError, match="needs a model endpoint"):
        make_settings(llm_fallback_models="a")


def test_a_bad_fallback_list_stops_the_start_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from durable_conversation_ledger_agent_europe.config import load_settings

    monkeypatch.chdir("/")  # no .env here
    monkeypatch.setenv("LLM_API_KEY", "sk-test")
    monkeypatch.setenv("LLM_FALLBACK_MODELS", "spare|https://other.test/v1|NOT_SET_ANYWHERE")
    with pytest.raises(SystemExit) as caught:
        load_settings()
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("invalid configuration: LLM_FALLBACK_MODELS: ")
    assert "NOT_SET_ANYWHERE is not set" in err


def test_the_primary_key_is_never_sent_to_another_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPARE_KEY", "sk-spare")
    settings = make_settings(
        llm_base_url="https://primary.test/v1",
        llm_api_key="sk-primary",
        llm_fallback_models="same,other|https://other.test/v1,keyed|https://other.test/v1|SPARE_KEY",
    )
    models = create_fallback_models(settings)
    assert all(isinstance(model, OpenAIChatModel) for model in models)
    same, other, keyed = (model for model in models if isinstance(model, OpenAIChatModel))
    assert [m._client.headers.get("authorization") for m in (same, other, keyed)] == [
        "Bearer sk-primary",
        None,
        "Bearer sk-spare",
    ]
    assert str(same._client.base_url) == "https://primary.test/v1/"


# --- the cheap-turn routing rule --------------------------------------------------------


def routed_agent(cheap: OpenAIChatModel, primary: OpenAIChatModel) -> Agent:
    store = MemorySessionStore(max_messages=50)
    return Agent(
        model=primary,
        tools=default_registry(),
        store=store,
        budget=TokenBudget(store, 0),
        limits=AgentLimits(),
        cheap_model=cheap,
        cheap_max_chars=10,
    )


async def test_short_messages_go_to_the_cheap_model_first(llm_calls: LlmCalls) -> None:
    cheap = endpoint("cheap", lambda request: answer("cheap answer"))
    primary = endpoint("primary", lambda request: answer("primary answer"))
    agent = routed_agent(cheap, primary)
    short = await agent.run(ChatRequest(message="x" * 10), trace_id="t")
    long = await agent.run(ChatRequest(message="x" * 11), trace_id="t")
    assert (short.model, short.answer) == ("cheap", "cheap answer")
    assert (long.model, long.answer) == ("primary", "primary answer")
    assert llm_calls.calls == [("cheap", "ok"), ("primary", "ok")]


async def test_a_failing_cheap_model_falls_back_to_the_primary(llm_calls: LlmCalls) -> None:
    cheap = endpoint("cheap", lambda request: httpx.Response(503))
    primary = endpoint("primary", lambda request: answer("primary answer"))
    response = await routed_agent(cheap, primary).run(ChatRequest(message="hi"), trace_id="t")
    assert response.model == "primary"
    assert llm_calls.calls == [("cheap", "error"), ("primary", "ok")]


def test_the_cheap_model_is_on_the_primary_endpoint_and_needs_one() -> None:
    settings = make_settings(
        llm_base_url="https://primary.test/v1", llm_api_key="sk-primary", llm_cheap_model="mini"
    )
    cheap = create_cheap_model(settings)
    assert isinstance(cheap, OpenAIChatModel)
    assert cheap.name == "mini"
    assert str(cheap._client.base_url) == "https://primary.test/v1/"
    assert cheap._client.headers["authorization"] == "Bearer sk-primary"
    assert create_cheap_model(make_settings(llm_api_key="sk")) is None
    with pytest.raises(ValueError, match="LLM_CHEAP_MODEL: needs a model endpoint"):
        make_settings(llm_cheap_model="mini")


# --- prompt-cache friendly requests -------------------------------------------------------


async def test_every_request_of_a_session_opens_with_the_same_bytes() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        last = json.loads(request.content)["messages"][-1]
        if last["role"] == "tool":
            return answer(f"It is {last['content']}.")
        return tool_call() if "6*7" in last["content"] else answer("plain")

    agent = make_agent(endpoint("primary", handler))
    first = await agent.run(ChatRequest(message="what is 6*7"), trace_id="t")
    for message in ("hello", "what is 6*7 again", "bye"):
        await agent.run(ChatRequest(message=message, session_id=first.session_id), trace_id="t")
    assert len(bodies) == 6
    payloads = [json.loads(body) for body in bodies]
    # the model, the tool list (in name order) and the system prompt open every body
    assert all(list(p)[:3] == ["model", "tools", "messages"] for p in payloads)
    names = [tool["function"]["name"] for tool in payloads[0]["tools"]]
    assert names == sorted(names)
    system = payloads[0]["messages"][0]
    prefix = bodies[0][: bodies[0].index(json.dumps(system["content"]).encode())]
    assert all(body.startswith(prefix) for body in bodies)
    assert all(p["messages"][0] == system and p["tools"] == payloads[0]["tools"] for p in payloads)
    # and each turn's request opens with the previous turn's history, byte for byte
    turn_bodies = [bodies[0], bodies[2], bodies[3], bodies[5]]
    for earlier, later in itertools.pairwise(turn_bodies):
        head = earlier[: earlier.rindex(b'{"role":"user"')]
        assert later.startswith(head)


# --- token-aware context trimming --------------------------------------------------------


SYSTEM: Message = {"role": "system", "content": "be brief"}


def call_message(*ids: str) -> Message:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": i, "type": "function", "function": {"name": "calculator", "arguments": "{}"}}
            for i in ids
        ],
    }


def result(call_id: str, content: str = "42") -> Message:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def text(role: str, size: int, tag: str = "") -> Message:
    return {"role": role, "content": tag + "x" * size}


def test_trimming_drops_the_oldest_turns_first_and_keeps_tool_pairs() -> None:
    history = [
        text("user", 400, "old"),
        call_message("a1", "a2"),
        result("a1"),
        result("a2"),
        text("assistant", 400, "old answer"),
        text("user", 400, "newer"),
        text("assistant", 400, "newer answer"),
    ]
    messages = [SYSTEM, *history, text("user", 40, "now")]
    everything = context_window.fit(messages, [], 0, len(messages) - 1)
    assert everything.messages == messages
    budget = everything.estimated_tokens - 150  # room for all but the oldest turn
    window = context_window.fit(messages, [], budget, len(messages) - 1)
    assert window.messages == [SYSTEM, *history[5:], messages[-1]]
    assert window.dropped_messages == 5
    assert window.estimated_tokens <= budget
    # too small for any history: the system prompt and the current message stay
    tiny = context_window.fit(messages, [], 1, len(messages) - 1)
    assert tiny.messages == [SYSTEM, messages[-1]]


def test_trimming_within_the_turn_keeps_the_newest_exchange_whole() -> None:
    current = [
        text("user", 40, "now"),
        call_message("c1"),
        result("c1", "r" * 800),
        call_message("c2", "c3"),
        result("c2"),
        result("c3"),
    ]
    messages = [SYSTEM, text("user", 400), text("assistant", 400), *current]
    window = context_window.fit(messages, [], 100, 3)
    assert window.messages == [SYSTEM, current[0], *current[3:]]


def test_results_without_their_call_and_calls_without_results_are_never_sent() -> None:
    history = [
        result("gone"),  # its call was trimmed away by SESSION_MAX_MESSAGES
        text("assistant", 10, "an answer"),
        text("user", 10, "q"),
        call_message("d1", "d2"),
        result("d1"),  # d2's result is missing
        text("assistant", 10, "a"),
    ]
    messages = [SYSTEM, *history, text("user", 10, "now")]
    window = context_window.fit(messages, [], 0, len(messages) - 1)
    assert window.messages == [
        SYSTEM,
        history[1],
        history[2],
        history[5],
        messages[-1],
    ]


def test_the_tool_list_counts_toward_the_bound() -> None:
    tools = default_registry().schemas()
    messages = [SYSTEM, text("user", 400), text("assistant", 400), text("user", 10)]
    without = context_window.fit(messages, [], 0, 3).estimated_tokens
    assert context_window.fit(messages, tools, 0, 3).estimated_tokens == (
        without + context_window.estimate_tools_tokens(tools)
    )
    assert context_window.fit(messages, tools, without, 3).dropped_messages == 2


async def test_the_agent_sends_a_trimmed_context_and_keeps_the_full_history(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent: list[list[Message]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content)["messages"])
        return answer("ok")

    agent = make_agent(endpoint("primary", handler), max_input_tokens=900)
    first = await agent.run(ChatRequest(message="a" * 2000), trace_id="t")
    session = first.session_id
    await agent.run(ChatRequest(message="b" * 2000, session_id=session), trace_id="t")
    loop_logger = "durable_conversation_ledger_agent_europe.agent.loop"
    with caplog.at_level(logging.INFO, logger=loop_logger):
        await agent.run(ChatRequest(message="c" * 40, session_id=session), trace_id="t")
    assert [m["content"][:1] for m in sent[-1]] == [sent[-1][0]["content"][:1], "b", "o", "c"]
    assert len(await agent.store.load(session)) == 6
    turn = next(r for r in caplog.records if r.getMessage() == "turn finished")
    assert turn.__dict__["trimmed_messages"] == 2


# --- response cache ------------------------------------------------------------------------


class CountingModel(FakeChatModel):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def complete(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return await super().complete(*args, **kwargs)


@pytest.fixture
def cache_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    results: list[str] = []
    monkeypatch.setattr(observability, "record_response_cache", results.append)
    return results


async def test_a_repeated_first_turn_is_answered_from_the_cache(cache_lookups: list[str]) -> None:
    model = CountingModel()
    agent = make_agent(model, cache_ttl=60)
    first = await agent.run(ChatRequest(message="what is 6*7"), trace_id="t")
    again = await agent.run(ChatRequest(message="  what   is 6*7 "), trace_id="t")
    assert model.calls == 2  # the first turn: a tool call and the answer
    assert again.answer == first.answer
    assert again.tool_calls == first.tool_calls
    assert again.model == "fake"
    assert again.usage.input_tokens == again.usage.output_tokens == 0
    assert again.session_id != first.session_id
    assert cache_lookups == ["miss", "hit"]
    # the session goes on from the cached answer, and later turns are never cached
    history = await agent.store.load(again.session_id)
    assert [m["content"] for m in history] == ["  what   is 6*7 ", first.answer]
    await agent.run(ChatRequest(message="what is 6*7", session_id=again.session_id), trace_id="t")
    assert model.calls == 4
    assert cache_lookups == ["miss", "hit"]


async def test_the_cache_is_per_api_key_unless_shared(cache_lookups: list[str]) -> None:
    async def ask(agent: Agent, caller: str | None) -> None:
        token = current_owner.set(BudgetOwner(key_id(caller)) if caller else None)
        try:
            await agent.run(ChatRequest(message="hello there"), trace_id="t")
        finally:
            current_owner.reset(token)

    model = CountingModel()
    agent = make_agent(model, cache_ttl=60)
    for caller in ("key:one", "key:two", "key:one", "key:two"):
        await ask(agent, caller)
    assert cache_lookups == ["miss", "miss", "hit", "hit"]
    assert model.calls == 2
    assert isinstance(agent.store, MemorySessionStore)
    keys = list(agent.store._values)
    assert not any("one" in key or "two" in key for key in keys)

    shared = make_agent(CountingModel(), cache_ttl=60, cache_shared=True)
    cache_lookups.clear()
    await ask(shared, "key:one")
    await ask(shared, "key:two")
    assert cache_lookups == ["miss", "hit"]


async def test_cache_entries_expire() -> None:
    now = [1000.0]
    store = MemorySessionStore(max_messages=50, clock=lambda: now[0])
    model = CountingModel()
    agent = make_agent(model, store=store, cache_ttl=30)
    await agent.run(ChatRequest(message="hello"), trace_id="t")
    now[0] += 29
    await agent.run(ChatRequest(message="hello"), trace_id="t")
    assert model.calls == 1
    now[0] += 2
    await agent.run(ChatRequest(message="hello"), trace_id="t")
    assert model.calls == 2


async def test_the_key_covers_the_model_chain_and_the_tools() -> None:
    store = MemorySessionStore(max_messages=50)
    cache = ResponseCache(store, 60, fingerprint=["m1"])
    tools = default_registry().schemas()
    key = cache.key("Hi  there", tools)
    assert key == cache.key(" Hi there ", tools)
    assert key != cache.key("hi there", tools)  # case is kept
    assert key != cache.key("Hi there", tools[:1])
    assert key != ResponseCache(store, 60, fingerprint=["m2"]).key("Hi there", tools)
    assert normalise("e\u0301  x\n") == "\u00e9 x"


async def test_streams_neither_read_nor_fill_the_cache(cache_lookups: list[str]) -> None:
    model = CountingModel()
    agent = make_agent(model, cache_ttl=60)
    for _ in range(2):
        events = [e async for e in stream_events(agent, ChatRequest(message="hi"), trace_id="t")]
        assert events[-1][0] == "done"
    assert cache_lookups == []
    await agent.run(ChatRequest(message="hi"), trace_id="t")
    assert cache_lookups == ["miss"]


async def test_the_cache_is_off_by_default(cache_lookups: list[str]) -> None:
    model = CountingModel()
    agent = make_agent(model)
    await agent.run(ChatRequest(message="hi"), trace_id="t")
    await agent.run(ChatRequest(message="hi"), trace_id="t")
    assert model.calls == 2
    assert cache_lookups == []


async def test_an_unreadable_entry_is_a_miss(cache_lookups: list[str]) -> None:
    model = CountingModel()
    agent = make_agent(model, cache_ttl=60)
    assert agent.response_cache is not None
    key = agent.response_cache.key("hi", agent.tools.schemas())
    await agent.store.set_value(key, '{"answer": 3}', 60)
    response = await agent.run(ChatRequest(message="hi"), trace_id="t")
    assert model.calls == 1
    assert "You said" in response.answer
    assert cache_lookups == ["miss"]
