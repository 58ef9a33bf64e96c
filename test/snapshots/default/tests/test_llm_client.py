"""The OpenAI-compatible client against a mock endpoint (httpx.MockTransport)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from my_agent.agent.llm import (
    Completion,
    OpenAIChatModel,
    backoff_delay,
    estimate_prompt_tokens,
    estimate_tokens,
    parse_retry_after,
    turn_deadline,
)
from my_agent.web.errors import UpstreamError, UpstreamTimeout

Handler = Callable[[httpx.Request], httpx.Response]
MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "hi"}]


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def completion_body(
    content: str | None = "hello", tool_calls: list[Any] | None = None, usage: bool = True
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    if usage:
        body["usage"] = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    return body


def make_model(
    handler: Handler, sleeps: Sleeps | None = None, retries: int = 2, max_bytes: int = 1_000_000
) -> OpenAIChatModel:
    return OpenAIChatModel(
        base_url="https://llm.test/v1",
        api_key="sk-test",
        model="test-model",
        timeout=5,
        max_retries=retries,
        max_response_bytes=max_bytes,
        transport=httpx.MockTransport(handler),
        sleep=sleeps or Sleeps(),
    )


async def test_complete_sends_an_openai_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=completion_body())

    model = make_model(handler)
    result = await model.complete(MESSAGES, [{"type": "function", "function": {"name": "t"}}], 50)
    await model.aclose()
    assert result == Completion(content="hello", input_tokens=11, output_tokens=7)
    request = seen[0]
    assert str(request.url) == "https://llm.test/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    payload = json.loads(request.content)
    assert payload["model"] == "test-model"
    assert payload["max_tokens"] == 50
    assert payload["tools"][0]["function"]["name"] == "t"
    assert "stream" not in payload


async def test_complete_parses_tool_calls_and_estimates_missing_usage() -> None:
    calls = [
        {
            "id": "c1",
            "type": "function",
            "function": {"name": "calculator", "arguments": '{"expression":"1+1"}'},
        }
    ]
    model = make_model(
        lambda r: httpx.Response(200, json=completion_body(None, calls, usage=False))
    )
    result = await model.complete(MESSAGES, [], 50)
    assert result.tool_calls[0].name == "calculator"
    assert result.tool_calls[0].as_message_part()["function"]["arguments"] == '{"expression":"1+1"}'
    assert result.usage_estimated
    assert result.input_tokens == estimate_prompt_tokens(MESSAGES)
    assert result.output_tokens > 0


async def test_retries_429_honouring_retry_after_then_succeeds() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "slow down"}),
            httpx.Response(503),
            httpx.Response(200, json=completion_body()),
        ]
    )
    sleeps = Sleeps()
    model = make_model(lambda r: next(answers), sleeps)
    assert (await model.complete(MESSAGES, [], 10)).content == "hello"
    assert sleeps.calls[0] == 3.0
    assert 0 < sleeps.calls[1] <= 1.0


async def test_5xx_after_retries_is_upstream_error() -> None:
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(500)

    with pytest.raises(UpstreamError, match="500"):
        await make_model(handler, retries=2).complete(MESSAGES, [], 10)
    assert count == 3


async def test_4xx_is_not_retried() -> None:
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(400, json={"error": "bad"})

    with pytest.raises(UpstreamError, match="400"):
        await make_model(handler).complete(MESSAGES, [], 10)
    assert count == 1


async def test_connect_errors_are_retried() -> None:
    attempts = iter([httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), None])

    def handler(request: httpx.Request) -> httpx.Response:
        error = next(attempts)
        if error is not None:
            raise error
        return httpx.Response(200, json=completion_body())

    sleeps = Sleeps()
    assert (await make_model(handler, sleeps).complete(MESSAGES, [], 10)).content == "hello"
    assert len(sleeps.calls) == 2


async def test_connect_errors_exhausted() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    def connect_timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow")

    with pytest.raises(UpstreamError, match="unreachable"):
        await make_model(refuse, retries=1).complete(MESSAGES, [], 10)
    with pytest.raises(UpstreamTimeout):
        await make_model(connect_timeout, retries=0).complete(MESSAGES, [], 10)


async def test_read_timeout_is_upstream_timeout_without_retry() -> None:
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        raise httpx.ReadTimeout("slow")

    with pytest.raises(UpstreamTimeout):
        await make_model(handler).complete(MESSAGES, [], 10)
    assert count == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b"not json"),
        httpx.Response(200, json={"choices": []}),
        httpx.Response(200, json={"unexpected": True}),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, json={"choices": {"0": {"message": {"content": "x"}}}}),
        httpx.Response(200, json={"choices": ["x"]}),
        httpx.Response(200, json={"choices": [{"message": {"content": 42}}]}),
        httpx.Response(200, json={"choices": [{"message": {"tool_calls": ["x"]}}]}),
        httpx.Response(200, json={"choices": [{"message": {"tool_calls": [{"function": {}}]}}]}),
        httpx.Response(200, json={**completion_body(), "usage": {"prompt_tokens": "many"}}),
        httpx.Response(200, json={**completion_body(), "usage": {"prompt_tokens": -1}}),
    ],
)
async def test_bad_bodies_are_upstream_errors(response: httpx.Response) -> None:
    with pytest.raises(UpstreamError):
        await make_model(lambda r: response).complete(MESSAGES, [], 10)


def sse(*chunks: Any) -> bytes:
    lines = [f"data: {json.dumps(c)}\n\n" if not isinstance(c, str) else f"{c}\n\n" for c in chunks]
    return "".join(lines).encode()


async def test_stream_yields_deltas_then_a_completion() -> None:
    body = sse(
        ": keep-alive",
        {"choices": [{"delta": {"role": "assistant", "content": "Hel"}}]},
        {"choices": [{"delta": {"content": "lo"}}]},
        {
            "choices": [
                {
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "c1",
                                "function": {"name": "calc", "arguments": '{"expr'},
                            }
                        ]
                    }
                }
            ]
        },
        {
            "choices": [
                {"delta": {"tool_calls": [{"index": 0, "function": {"arguments": 'ession":"1"}'}}]}}
            ]
        },
        {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}},
        "data: [DONE]",
    )
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    items = [item async for item in make_model(handler).stream(MESSAGES, [], 10)]
    assert items[:2] == ["Hel", "lo"]
    final = items[-1]
    assert isinstance(final, Completion)
    assert final.content == "Hello"
    assert final.tool_calls[0].name == "calc"
    assert final.tool_calls[0].arguments == '{"expression":"1"}'
    assert (final.input_tokens, final.output_tokens) == (5, 3)
    assert seen[0]["stream"] is True
    assert seen[0]["stream_options"] == {"include_usage": True}


async def test_stream_without_usage_estimates() -> None:
    body = sse({"choices": [{"delta": {"content": "abcd"}}]}, "data: [DONE]")
    items = [
        item
        async for item in make_model(lambda r: httpx.Response(200, content=body)).stream(
            MESSAGES, [], 10
        )
    ]
    final = items[-1]
    assert isinstance(final, Completion)
    assert final.usage_estimated
    assert final.output_tokens == 1


async def test_stream_errors() -> None:
    bad = sse("data: {oops")
    with pytest.raises(UpstreamError, match="invalid stream"):
        [
            item
            async for item in make_model(lambda r: httpx.Response(200, content=bad)).stream(
                MESSAGES, [], 10
            )
        ]

    class Broken(httpx.AsyncByteStream):
        def __init__(self, error: Exception) -> None:
            self.error = error

        async def __aiter__(self):  # type: ignore[no-untyped-def]
            yield b'data: {"choices": [{"delta": {"content": "a"}}]}\n\n'
            raise self.error

    for error, expected in (
        (httpx.ReadTimeout("slow"), UpstreamTimeout),
        (httpx.ReadError("reset"), UpstreamError),
    ):
        model = make_model(lambda r, e=error: httpx.Response(200, stream=Broken(e)))  # type: ignore[misc]
        with pytest.raises(expected):
            [item async for item in model.stream(MESSAGES, [], 10)]

    with pytest.raises(UpstreamError, match="500"):
        [
            item
            async for item in make_model(lambda r: httpx.Response(500), retries=0).stream(
                MESSAGES, [], 10
            )
        ]


@pytest.mark.parametrize(
    "chunk",
    [
        {"choices": "x"},
        {"choices": ["x"]},
        {"choices": [{"delta": {"content": ["x"]}}]},
        {"choices": [{"delta": {"tool_calls": ["x"]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": "first"}]}}]},
        {"choices": [], "usage": {"prompt_tokens": "many"}},
    ],
)
async def test_stream_chunks_of_the_wrong_shape_are_upstream_errors(chunk: Any) -> None:
    body = sse({"choices": [{"delta": {"content": "a"}}]}, chunk, "data: [DONE]")
    model = make_model(lambda r: httpx.Response(200, content=body))
    with pytest.raises(UpstreamError, match="unexpected stream chunk"):
        [item async for item in model.stream(MESSAGES, [], 10)]


async def test_stream_cut_off_without_done_or_finish_reason_is_an_upstream_error() -> None:
    body = sse({"choices": [{"delta": {"content": "half an ans"}}]})
    model = make_model(lambda r: httpx.Response(200, content=body))
    with pytest.raises(UpstreamError, match=r"without \[DONE\] or a finish_reason"):
        [item async for item in model.stream(MESSAGES, [], 10)]
    # a finish_reason is enough (some endpoints send no [DONE])
    body = sse({"choices": [{"delta": {"content": "whole"}, "finish_reason": "stop"}]})
    items = [
        item
        async for item in make_model(lambda r: httpx.Response(200, content=body)).stream(
            MESSAGES, [], 10
        )
    ]
    final = items[-1]
    assert isinstance(final, Completion)
    assert final.content == "whole"


async def test_answers_over_max_response_bytes_are_upstream_errors() -> None:
    big = completion_body(content="x" * 5000)
    model = make_model(lambda r: httpx.Response(200, json=big), max_bytes=4096)
    with pytest.raises(UpstreamError, match="LLM_MAX_RESPONSE_BYTES"):
        await model.complete(MESSAGES, [], 10)

    class Endless(httpx.AsyncByteStream):
        """A body with no Content-Length that never ends."""

        async def __aiter__(self):  # type: ignore[no-untyped-def]
            while True:
                yield b"x" * 1024

    model = make_model(lambda r: httpx.Response(200, stream=Endless()), max_bytes=4096)
    with pytest.raises(UpstreamError, match="LLM_MAX_RESPONSE_BYTES"):
        await model.complete(MESSAGES, [], 10)
    # streamed: one endless line, or many small events, are both bounded
    with pytest.raises(UpstreamError, match="LLM_MAX_RESPONSE_BYTES"):
        [item async for item in model.stream(MESSAGES, [], 10)]
    many = sse(*[{"choices": [{"delta": {"content": "tok"}}]}] * 200, "data: [DONE]")
    model = make_model(lambda r: httpx.Response(200, content=many), max_bytes=4096)
    with pytest.raises(UpstreamError, match="LLM_MAX_RESPONSE_BYTES"):
        [item async for item in model.stream(MESSAGES, [], 10)]


async def test_a_retry_after_past_the_turn_fails_fast() -> None:
    sleeps = Sleeps()
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(429, headers={"Retry-After": "3600"})

    with pytest.raises(UpstreamError, match="Retry-After 3600"):
        await make_model(handler, sleeps).complete(MESSAGES, [], 10)
    assert (calls, sleeps.calls) == (1, [])

    # a short Retry-After, but longer than the turn has left
    def short(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "5"})

    token = turn_deadline.set(time.monotonic() + 2)
    try:
        with pytest.raises(UpstreamError, match="would pass the turn's remaining"):
            await make_model(short, sleeps).complete(MESSAGES, [], 10)
    finally:
        turn_deadline.reset(token)
    assert sleeps.calls == []


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("-1") == 0.0
    assert parse_retry_after("soon") is None
    now = datetime(2030, 1, 1, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(30)
    assert parse_retry_after(later) is not None


def test_backoff_delay() -> None:
    assert backoff_delay(0, retry_after=100) == 30.0
    assert backoff_delay(0, retry_after=2) == 2
    for attempt in range(6):
        delay = backoff_delay(attempt)
        ceiling = min(8.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling


def test_estimates() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcde") == 2
    with_tools = [{"role": "assistant", "content": None, "tool_calls": [{"id": "x"}]}]
    assert estimate_prompt_tokens(with_tools) > 4
