"""The loop against the fake model and against an OpenAI-compatible mock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from archive_agent.agent.budget import TokenBudget
from archive_agent.agent.fake import FakeChatModel
from archive_agent.agent.llm import (
    ChatModel,
    Completion,
    Message,
    OpenAIChatModel,
    StreamItem,
    ToolCall,
)
from archive_agent.agent.loop import (
    MAX_STEPS_ANSWER,
    Agent,
    AgentLimits,
    encode_sse,
    error_object,
    stream_events,
)
from archive_agent.agent.schemas import ChatRequest
from archive_agent.agent.tools import default_registry
from archive_agent.sessions.memory import MemorySessionStore
from archive_agent.web.errors import (
    BudgetExceeded,
    UpstreamError,
    UpstreamTimeout,
    ValidationFailed,
)


async def no_sleep(seconds: float) -> None:
    return None


def make_agent(model: ChatModel, *, budget: int = 0, **limits: Any) -> Agent:
    store = MemorySessionStore(max_messages=limits.pop("max_messages", 50))
    return Agent(
        model=model,
        tools=default_registry(),
        store=store,
        budget=TokenBudget(store, budget),
        limits=AgentLimits(**limits),
    )


async def test_tool_round_trip_with_the_fake_model() -> None:
    agent = make_agent(FakeChatModel())
    response = await agent.run(ChatRequest(message="what is 6*7"), trace_id="t" * 32)
    assert "42" in response.answer
    assert [c.model_dump() for c in response.tool_calls] == [{"name": "calculator", "status": "ok"}]
    assert response.usage.input_tokens > 0
    assert response.usage.output_tokens > 0
    assert response.trace_id == "t" * 32
    assert len(response.session_id) == 32
    assert response.latency_ms >= 0


async def test_sessions_keep_history_and_are_trimmed() -> None:
    model = RecordingModel(FakeChatModel())
    agent = make_agent(model, max_messages=3)
    first = await agent.run(ChatRequest(message="hello"), trace_id="t")
    await agent.run(ChatRequest(message="again", session_id=first.session_id), trace_id="t")
    sent = model.calls[-1]
    assert [m["content"] for m in sent[1:]] == ["hello", first.answer, "again"]
    history = await agent.store.load(first.session_id)
    assert len(history) == 3
    assert history[-1]["role"] == "assistant"


class RecordingModel:
    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[list[Message]] = []

    async def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> Completion:
        self.calls.append(list(messages))
        return await self.inner.complete(messages, tools, max_tokens)

    def stream(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> AsyncIterator[StreamItem]:
        self.calls.append(list(messages))
        return self.inner.stream(messages, tools, max_tokens)

    async def aclose(self) -> None:
        await self.inner.aclose()


class AlwaysTools:
    """A model that never stops asking for tools."""

    name = "loopy"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> Completion:
        self.calls += 1
        return Completion(
            tool_calls=[ToolCall(f"c{self.calls}", "current_time", "{}")],
            input_tokens=1,
            output_tokens=1,
        )

    async def stream(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> AsyncIterator[StreamItem]:
        yield await self.complete(messages, tools, max_tokens)

    async def aclose(self) -> None:
        return None


async def test_max_steps_bounds_the_loop() -> None:
    model = AlwaysTools()
    agent = make_agent(model, max_steps=3)
    response = await agent.run(ChatRequest(message="loop"), trace_id="t")
    assert model.calls == 3
    assert response.answer == MAX_STEPS_ANSWER
    assert len(response.tool_calls) == 3
    assert response.usage.input_tokens == 3

    events = [
        e
        async for e in stream_events(
            make_agent(AlwaysTools(), max_steps=2), ChatRequest(message="x"), trace_id="t"
        )
    ]
    assert [name for name, _ in events] == ["tool", "tool", "token", "done"]


async def test_request_timeout_is_upstream_timeout() -> None:
    agent = make_agent(FakeChatModel(latency_ms=2000), request_timeout=0.05)
    with pytest.raises(UpstreamTimeout):
        await agent.run(ChatRequest(message="slow"), trace_id="t")


async def test_message_length_is_bounded() -> None:
    agent = make_agent(FakeChatModel(), max_message_chars=5)
    with pytest.raises(ValidationFailed) as caught:
        await agent.run(ChatRequest(message="too long"), trace_id="t")
    assert caught.value.details[0]["field"] == "message"


async def test_budget_exceeded_stops_new_turns() -> None:
    agent = make_agent(FakeChatModel(), budget=10)
    await agent.run(ChatRequest(message="what is 6*7"), trace_id="t")  # uses more than 10
    with pytest.raises(BudgetExceeded) as caught:
        await agent.run(ChatRequest(message="again"), trace_id="t")
    assert int(caught.value.headers["Retry-After"]) >= 1


# --- against an OpenAI-compatible mock endpoint -------------------------------------


def openai_agent(handler: Any, **limits: Any) -> Agent:
    model = OpenAIChatModel(
        base_url="http://mock/v1",
        api_key="k",
        model="mock-model",
        timeout=limits.pop("llm_timeout", 5),
        max_retries=2,
        transport=httpx.MockTransport(handler),
        sleep=no_sleep,
    )
    return make_agent(model, **limits)


def tool_call_body() -> dict[str, Any]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "calculator", "arguments": '{"expression": "6*7"}'},
    }
    return {
        "choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [call]}}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 5},
    }


def answer_body(text: str) -> dict[str, Any]:
    return {
        "choices": [{"message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 4},
    }


async def test_tool_round_trip_against_the_mock() -> None:
    requests: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        payload = json.loads(request.content)
        requests.append(payload)
        if payload["messages"][-1]["role"] == "tool":
            return httpx.Response(
                200, json=answer_body(f"It is {payload['messages'][-1]['content']}.")
            )
        return httpx.Response(200, json=tool_call_body())

    response = await openai_agent(handler).run(ChatRequest(message="what is 6*7"), trace_id="t")
    assert response.answer == "It is 42."
    assert response.usage.model_dump() == {
        "input_tokens": 50,
        "output_tokens": 9,
        "cached_input_tokens": 0,
        "cost_usd": None,
    }
    second = requests[1]["messages"]
    assert second[-2]["tool_calls"][0]["id"] == "call_1"
    assert second[-1] == {"role": "tool", "tool_call_id": "call_1", "content": "42"}
    assert requests[0]["max_tokens"] == 1024


async def test_429_with_retry_after_then_success() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.Response(200, json=answer_body("fine")),
        ]
    )
    response = await openai_agent(lambda r: next(answers)).run(
        ChatRequest(message="hi"), trace_id="t"
    )
    assert response.answer == "fine"


async def test_5xx_after_retries_is_502() -> None:
    with pytest.raises(UpstreamError) as caught:
        await openai_agent(lambda r: httpx.Response(502)).run(
            ChatRequest(message="hi"), trace_id="t"
        )
    assert caught.value.status == 502


async def test_llm_timeout_is_504() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow")

    with pytest.raises(UpstreamTimeout) as caught:
        await openai_agent(handler).run(ChatRequest(message="hi"), trace_id="t")
    assert caught.value.status == 504


async def test_streaming_against_the_mock() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        chunks = [
            {"choices": [{"delta": {"content": "Hi "}}]},
            {"choices": [{"delta": {"content": "there"}}]},
        ]
        body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return httpx.Response(200, content=body.encode())

    events = [
        e
        async for e in stream_events(openai_agent(handler), ChatRequest(message="hi"), trace_id="t")
    ]
    assert events[0] == ("token", {"delta": "Hi "})
    assert events[1] == ("token", {"delta": "there"})
    assert events[-1][0] == "done"
    assert events[-1][1]["answer"] == "Hi there"


# --- streaming -------------------------------------------------------------------------


async def test_stream_events_with_the_fake_model() -> None:
    agent = make_agent(FakeChatModel())
    events = [
        e async for e in stream_events(agent, ChatRequest(message="what is 6*7"), trace_id="t")
    ]
    names = [name for name, _ in events]
    assert names[0] == "tool"
    assert events[0][1] == {"name": "calculator", "status": "ok"}
    assert names[-1] == "done"
    assert "42" in "".join(data["delta"] for name, data in events if name == "token")
    assert events[-1][1]["tool_calls"] == [{"name": "calculator", "status": "ok"}]


async def test_stream_reports_errors_as_one_error_event() -> None:
    agent = openai_agent(lambda r: httpx.Response(500))
    events = [e async for e in stream_events(agent, ChatRequest(message="hi"), trace_id="abc")]
    assert events == [
        (
            "error",
            {
                "code": "upstream_error",
                "message": "the model endpoint answered 500",
                "trace_id": "abc",
                "details": [],
            },
        )
    ]


async def test_stream_hides_unexpected_exceptions() -> None:
    class Exploding(FakeChatModel):
        async def stream(
            self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
        ) -> AsyncIterator[StreamItem]:
            raise RuntimeError("secret detail")
            yield ""

    events = [
        e
        async for e in stream_events(
            make_agent(Exploding()), ChatRequest(message="hi"), trace_id="t"
        )
    ]
    assert events[0][0] == "error"
    assert events[0][1]["code"] == "internal_error"
    assert "secret" not in json.dumps(events)


async def test_stream_without_a_final_completion_is_an_error() -> None:
    class Truncated(FakeChatModel):
        async def stream(
            self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
        ) -> AsyncIterator[StreamItem]:
            yield "partial"

    events = [
        e
        async for e in stream_events(
            make_agent(Truncated()), ChatRequest(message="hi"), trace_id="t"
        )
    ]
    assert events[-1][0] == "error"


async def test_closing_the_stream_cancels_the_run() -> None:
    cancelled = asyncio.Event()

    class Slow(FakeChatModel):
        async def stream(
            self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
        ) -> AsyncIterator[StreamItem]:
            yield "first "
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            yield Completion(content="never")

    stream = stream_events(make_agent(Slow()), ChatRequest(message="hi"), trace_id="t")
    assert await anext(stream) == ("token", {"delta": "first "})
    await stream.aclose()  # type: ignore[attr-defined]
    assert cancelled.is_set()


def test_encode_sse_and_error_object() -> None:
    assert encode_sse("token", {"delta": "a"}) == b'event: token\ndata: {"delta":"a"}\n\n'
    assert error_object(ValueError("x"), "t")["code"] == "internal_error"


async def test_turn_log_never_carries_the_message_unless_asked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from archive_agent.logs import (
        REDACTED,
        JsonFormatter,
        configure_logging,
    )

    loop_logger = "archive_agent.agent.loop"
    with caplog.at_level(logging.INFO, logger=loop_logger):
        await make_agent(FakeChatModel()).run(ChatRequest(message="my secret plan"), trace_id="t")
    record = next(r for r in caplog.records if r.getMessage() == "turn finished")
    line = json.loads(JsonFormatter().format(record))
    assert line["user_message"] == REDACTED
    assert line["answer"] == REDACTED
    assert "my secret plan" not in json.dumps(line)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("info", "json", log_payloads=True)
        assert json.loads(JsonFormatter().format(record))["user_message"] == "my secret plan"
    finally:
        configure_logging("info", "json", log_payloads=False)
        root.handlers[:] = handlers
        root.setLevel(level)
