"""The HTTP contract, for every framework: each endpoint and each row of the
error table, headers included.

Driven by conftest's ``client`` and ``client_factory`` fixtures, which build
the framework's own test client (``tests/api_client.py``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from support_bot import lifecycle
from support_bot.agent.fake import FakeChatModel
from support_bot.agent.llm import OpenAIChatModel
from support_bot.agent.tools import Tool, default_registry
from support_bot.api import create_app
from support_bot.middleware import Message, Scope
from support_bot.sessions.memory import MemorySessionStore

from api_client import TestClient
from conftest import ClientFactory, Response, assert_contract_headers, assert_error, make_settings

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def chat(client: TestClient, message: str = "hello", **kwargs: Any) -> Response:
    response: Response = client.post("/v1/chat", json={"message": message}, **kwargs)
    return response


# --- endpoints ---------------------------------------------------------------------------


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"]
    assert body["uptime_seconds"] >= 0
    assert_contract_headers(response)


def test_ready(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"session_store": "ok"}}
    assert_contract_headers(response)


def test_ready_is_503_when_the_store_fails(client_factory: ClientFactory) -> None:
    class DownStore(MemorySessionStore):
        async def ping(self) -> bool:
            raise ConnectionError("down")

    client = client_factory(store=DownStore(10))
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "not_ready", "checks": {"session_store": "error"}}


def test_openapi_and_docs(client_factory: ClientFactory) -> None:
    client = client_factory()
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert "/v1/chat" in spec.json()["paths"]
    assert client.get("/docs").status_code == 200
    off = client_factory(make_settings(docs_enabled=False))
    assert_error(off.get("/docs"), 404, "not_found")


def test_openapi_says_what_is_enforced(client_factory: ClientFactory) -> None:
    keyed = client_factory(make_settings(api_keys="key-1")).get("/openapi.json").json()
    request = keyed["components"]["schemas"]["ChatRequest"]
    for field in ("session_id", "user_id"):
        patterns = [s.get("pattern") for s in request["properties"][field]["anyOf"]]
        assert "^[A-Za-z0-9_-]{1,64}$" in patterns
    schemes = keyed["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyHeader"]["in"] == "header"
    assert schemes["apiKeyHeader"]["name"] == "X-API-Key"
    for path in ("/v1/chat", "/v1/chat/stream"):
        security = keyed["paths"][path]["post"]["security"]
        assert security == [{"bearerAuth": []}, {"apiKeyHeader": []}]
    assert "security" not in keyed["paths"]["/health"]["get"]
    # without API keys no operation requires one
    open_doc = client_factory().get("/openapi.json").json()
    assert "security" not in open_doc["paths"]["/v1/chat"]["post"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"x" * 100, "text/plain"),
        (b'{"message": ""}', "application/json"),
    ],
)
def test_authentication_comes_before_parsing(
    client_factory: ClientFactory, body: bytes, content_type: str
) -> None:
    client = client_factory(make_settings(api_keys="key-1"))
    for path in ("/v1/chat", "/v1/chat/stream"):
        response = client.post(path, content=body, headers={"content-type": content_type})
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"


def test_chat(client: TestClient) -> None:
    response = chat(
        client,
        "what is 6*7",
        headers={"X-Request-ID": "req-123", "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"},
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"answer", "session_id", "trace_id", "usage", "tool_calls", "latency_ms"}
    assert "42" in body["answer"]
    assert body["tool_calls"] == [{"name": "calculator", "status": "ok"}]
    assert body["usage"]["input_tokens"] > 0
    assert body["trace_id"] == TRACE
    assert response.headers["x-request-id"] == "req-123"
    assert response.headers["x-trace-id"] == TRACE
    assert_contract_headers(response)

    again = client.post(
        "/v1/chat", json={"message": "more", "session_id": body["session_id"], "user_id": "u_1"}
    )
    assert again.status_code == 200
    assert again.json()["session_id"] == body["session_id"]


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_chat_stream(client: TestClient) -> None:
    with client.stream("POST", "/v1/chat/stream", json={"message": "what is 6*7"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert_contract_headers(response)
        text = response.read().decode()
    events = parse_sse(text)
    assert events[0] == ("tool", {"name": "calculator", "status": "ok"})
    assert {name for name, _ in events[1:-1]} == {"token"}
    name, done = events[-1]
    assert name == "done"
    assert "42" in done["answer"]
    assert "".join(data["delta"] for n, data in events if n == "token") == done["answer"]


def test_chat_stream_error_event(client_factory: ClientFactory) -> None:
    client = client_factory(model=mock_model(lambda r: httpx.Response(500)))
    response = client.post("/v1/chat/stream", json={"message": "hi"})
    events = parse_sse(response.text)
    assert events == [
        (
            "error",
            {
                "code": "upstream_error",
                "message": "the model endpoint answered 500",
                "trace_id": response.headers["x-trace-id"],
                "details": [],
            },
        )
    ]


def test_metrics_or_404(client: TestClient) -> None:
    chat(client)
    client.get("/nope/123")
    response = client.get("/metrics")
    if response.status_code == 404:  # an observability stack without scrape metrics
        assert_error(response, 404, "not_found")
        return
    assert response.status_code == 200
    text = response.text
    assert 'agent_requests_total{method="POST",route="/v1/chat",status="200"}' in text
    assert 'route="unmatched"' in text
    assert "/nope/123" not in text
    assert "agent_request_duration_seconds_bucket" in text
    assert "agent_llm_calls_total" in text
    assert "agent_tokens_total" in text


def test_cors_allowlist(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(cors_origins="https://app.example"))
    headers = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    allowed = client.options("/v1/chat", headers=headers)
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    denied = client.options("/v1/chat", headers={**headers, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers


# --- the error table ---------------------------------------------------------------------


def test_400_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/v1/chat", content=b'{"message": ', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"X-API-Key": "wrong"},
        {"Authorization": "Basic key-1"},
    ],
)
def test_401_unauthorized(client_factory: ClientFactory, headers: dict[str, str]) -> None:
    client = client_factory(make_settings(api_keys="key-1,key-2"))
    response = chat(client, headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/health").status_code == 200  # never authenticated


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer key-2"}, {"X-API-Key": "key-1"}])
def test_valid_keys_pass(client_factory: ClientFactory, headers: dict[str, str]) -> None:
    client = client_factory(make_settings(api_keys="key-1,key-2"))
    assert chat(client, headers=headers).status_code == 200


def test_auth_disabled(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(api_keys="key-1", auth_disabled=True))
    assert chat(client).status_code == 200


def test_404_unknown_route(client: TestClient) -> None:
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.post("/nope", json={}), 404, "not_found")


def test_405_method_not_allowed(client: TestClient) -> None:
    response = client.get("/v1/chat")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]


def test_413_payload_too_large(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(max_body_bytes=100))
    big = json.dumps({"message": "x" * 200}).encode()
    assert_error(
        client.post("/v1/chat", content=big, headers={"Content-Type": "application/json"}),
        413,
        "payload_too_large",
    )

    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(10):
            yield b"x" * 20
        yield b'"}'

    response = client.post(
        "/v1/chat", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")


def test_415_unsupported_media_type(client: TestClient) -> None:
    response = client.post(
        "/v1/chat",
        content=b"message=hi",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "message"),
        ({"message": ""}, "message"),
        ({"message": 5}, "message"),
        ({"message": "hi", "session_id": "bad id!"}, "session_id"),
        ({"message": "hi", "user_id": "x" * 65}, "user_id"),
        ({"message": "a\u0000b"}, "message"),
    ],
)
def test_422_validation_error(client: TestClient, body: dict[str, Any], field: str) -> None:
    error = assert_error(client.post("/v1/chat", json=body), 422, "validation_error")
    assert error["details"][0]["field"] == field
    assert error["details"][0]["reason"]


def test_422_message_longer_than_max_message_chars(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(max_message_chars=10))
    error = assert_error(chat(client, "x" * 11), 422, "validation_error")
    assert error["details"] == [{"field": "message", "reason": "must be at most 10 characters"}]
    error = assert_error(
        client.post("/v1/chat/stream", json={"message": "x" * 11}), 422, "validation_error"
    )
    error = assert_error(
        client.post("/v1/chat", content=b"", headers={"Content-Type": "application/json"}),
        422,
        "validation_error",
    )


def test_429_rate_limited(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(rate_limit_per_minute=2, api_keys="k1,k2"))
    for _ in range(2):
        assert chat(client, headers={"X-API-Key": "k1"}).status_code == 200
    response = chat(client, headers={"X-API-Key": "k1"})
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert chat(client, headers={"X-API-Key": "k2"}).status_code == 200  # per key


def test_429_budget_exceeded(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(token_budget_daily=20))
    assert chat(client, "what is 6*7").status_code == 200
    response = chat(client)
    assert_error(response, 429, "budget_exceeded")
    assert int(response.headers["retry-after"]) >= 1
    assert_error(client.post("/v1/chat/stream", json={"message": "hi"}), 429, "budget_exceeded")


def mock_model(
    handler: Callable[[httpx.Request], httpx.Response], timeout: float = 5
) -> OpenAIChatModel:
    async def no_sleep(seconds: float) -> None:
        return None

    return OpenAIChatModel(
        base_url="http://mock/v1",
        api_key="k",
        model="mock",
        timeout=timeout,
        max_retries=2,
        transport=httpx.MockTransport(handler),
        sleep=no_sleep,
    )


def test_502_upstream_error(client_factory: ClientFactory) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503)

    client = client_factory(model=mock_model(handler))
    assert_error(chat(client), 502, "upstream_error")
    assert calls == 3


# (non-streamed body, streamed body) of one upstream defect each
UPSTREAM_DEFECTS = [
    (b"not json", b"data: not json\n\n"),
    (b'{"choices": "x"}', b'data: {"choices": "x"}\n\n'),
    (b'{"choices": []}', b'data: {"choices": []}\n\ndata: [DONE]\n\n'),
    (
        b'{"choices": [{"message": {"tool_calls": ["x"]}}]}',
        b'data: {"choices": [{"delta": {"tool_calls": ["x"]}}]}\n\n',
    ),
    (
        b'{"choices": [{"message": {"content": "a"}}], "usage": {"prompt_tokens": "many"}}',
        b'data: {"choices": [], "usage": {"prompt_tokens": "many"}}\n\n',
    ),
    (b'{"choices": [{"message": {"content": "' + b"x" * 3000 + b'"}}]}', b"data: " + b"x" * 3000),
    (
        b'{"choices": [{"message": {"content": "a"}}]',
        b'data: {"choices": [{"delta": {"content": "cut"}}]}\n\n',
    ),
]


@pytest.mark.parametrize(("body", "stream_body"), UPSTREAM_DEFECTS)
def test_502_for_every_upstream_defect(
    client_factory: ClientFactory, body: bytes, stream_body: bytes
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        streamed = json.loads(request.content).get("stream", False)
        return httpx.Response(200, content=stream_body if streamed else body)

    model = mock_model(handler)
    model.max_response_bytes = 2048
    store = MemorySessionStore(10)
    client = client_factory(model=model, store=store)
    turn = {"message": "hi", "session_id": "defective"}
    assert_error(client.post("/v1/chat", json=turn), 502, "upstream_error")
    response = client.post("/v1/chat/stream", json=turn)
    assert response.status_code == 200
    event, data = parse_sse(response.text)[-1]
    assert (event, data["code"]) == ("error", "upstream_error")
    assert asyncio.run(store.load("defective")) == []  # nothing of a failed turn is stored


def test_503_store_unavailable(client_factory: ClientFactory) -> None:
    class DownStore(MemorySessionStore):
        async def load(self, session_id: str) -> list[dict[str, Any]]:
            raise ConnectionRefusedError("connection refused")

    client = client_factory(store=DownStore(10))
    error = assert_error(chat(client), 503, "store_unavailable")
    assert "refused" not in json.dumps(error)
    event, data = parse_sse(client.post("/v1/chat/stream", json={"message": "hi"}).text)[-1]
    assert (event, data["code"]) == ("error", "store_unavailable")


def test_a_long_upstream_retry_after_fails_fast(client_factory: ClientFactory) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(429, headers={"Retry-After": "3600"})

    client = client_factory(model=mock_model(handler))
    assert_error(chat(client), 502, "upstream_error")
    assert calls == 1


def test_mock_endpoint_with_retry_after_then_success(client_factory: ClientFactory) -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.Response(
                200,
                json={"choices": [{"message": {"role": "assistant", "content": "real answer"}}]},
            ),
        ]
    )
    client = client_factory(model=mock_model(lambda r: next(answers)))
    response = chat(client)
    assert response.status_code == 200
    assert response.json()["answer"] == "real answer"


def test_503_shutting_down(client: TestClient) -> None:
    lifecycle.state.begin_drain()
    assert_error(chat(client), 503, "shutting_down")
    assert_error(client.post("/v1/chat/stream", json={"message": "hi"}), 503, "shutting_down")
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["status"] == "shutting_down"
    assert client.get("/health").status_code == 200


def test_504_upstream_timeout(client_factory: ClientFactory) -> None:
    client = client_factory(
        make_settings(request_timeout=0.05), model=FakeChatModel(latency_ms=1000)
    )
    assert_error(chat(client), 504, "upstream_timeout")

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    client = client_factory(model=mock_model(slow))
    assert_error(chat(client), 504, "upstream_timeout")


def test_500_internal_error(client_factory: ClientFactory) -> None:
    class BrokenStore(MemorySessionStore):
        async def load(self, session_id: str) -> list[dict[str, Any]]:
            raise RuntimeError("db password is hunter2")

    client = client_factory(store=BrokenStore(10))
    error = assert_error(chat(client), 500, "internal_error")
    assert "hunter2" not in json.dumps(error)


def test_tool_errors_are_reported_not_raised(client_factory: ClientFactory) -> None:
    def explode() -> str:
        raise TypeError("bad")

    tools = default_registry()
    tools.register(Tool("explode", "x", explode))
    client = client_factory(tools=tools)
    assert chat(client).status_code == 200


# --- hostile bodies, routing, the guard, disconnects ------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"message": "hel\xc3"}',
        b'{"mess\xff\xfeage": "hello"}',
    ],
    ids=["utf8-truncated", "utf8-invalid"],
)
def test_400_bodies_that_cannot_be_json(client: TestClient, body: bytes) -> None:
    response = client.post("/v1/chat", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 65 + b"]" * 65,
        b"[" * 5000 + b"]" * 5000,
        b'{"message": "hi", "x": ' + b"{" * 64 + b"}" * 64 + b"}",
        b'{"message": ' + b"[" * 100_000,
    ],
    ids=["nested-65", "nested-5000", "objects-65", "nested-unterminated"],
)
def test_400_json_nested_deeper_than_64(client: TestClient, body: bytes) -> None:
    for path in ("/v1/chat", "/v1/chat/stream"):
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        error = assert_error(response, 400, "bad_request")
        assert error["message"] == "JSON nested deeper than 64 levels"


def test_every_error_body_is_encoded_alike(client: TestClient) -> None:
    """Errors from the middleware (413, 415, 400) and from the framework (404, 405,
    422) are byte for byte the same encoding: compact JSON, keys in contract order."""
    as_json = {"Content-Type": "application/json"}
    responses = [
        client.post("/v1/chat", content=b"hello", headers={"Content-Type": "text/plain"}),
        client.post("/v1/chat", content=b"x" * 2_000_000, headers=as_json),
        client.post("/v1/chat", content=b"[" * 65, headers=as_json),
        client.get("/nope"),
        client.put("/v1/chat"),
        client.post("/v1/chat", content=b"{}", headers=as_json),
    ]
    assert [r.status_code for r in responses] == [415, 413, 400, 404, 405, 422]
    for response in responses:
        body = response.json()
        assert list(body["error"]) == ["code", "message", "trace_id", "details"]
        canonical = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        assert response.content == canonical, response.content


def test_json_nested_64_deep_is_parsed(client: TestClient) -> None:
    body = b"[" * 64 + b"]" * 64  # within the bound: JSON, only not an object
    response = client.post("/v1/chat", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"[]", "body"), (b'"hi"', "body"), (b"null", "body"), (b"", "body")],
)
def test_422_body_not_an_object(client: TestClient, body: bytes, field: str) -> None:
    response = client.post("/v1/chat", content=body, headers={"Content-Type": "application/json"})
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["field"] == field
    assert error["details"][0]["reason"]


def test_documents_at_exactly_the_contract_urls(client_factory: ClientFactory) -> None:
    client = client_factory()
    spec = client.get("/openapi.json")
    assert spec.headers["content-type"].startswith("application/json")
    paths = spec.json()["paths"]
    assert {"/v1/chat", "/v1/chat/stream", "/health", "/ready"} <= set(paths)
    assert "/openapi.json" not in paths
    assert "/metrics" not in paths
    stream_200 = paths["/v1/chat/stream"]["post"]["responses"]["200"]
    assert list(stream_200["content"]) == ["text/event-stream"]
    assert client.get("/docs").headers["content-type"].startswith("text/html")
    for path in ("/", "/schema", "/docs/x", "/openapi.json/x", "/swagger"):
        assert_error(client.get(path), 404, "not_found")
    off = client_factory(make_settings(docs_enabled=False))
    assert off.get("/openapi.json").status_code == 200
    assert_error(off.get("/docs"), 404, "not_found")


def test_405_on_every_known_route(client: TestClient) -> None:
    for method, path in (("PUT", "/v1/chat"), ("DELETE", "/v1/chat/stream"), ("POST", "/health")):
        assert_error(client.request(method, path), 405, "method_not_allowed")


def test_metrics_route_is_get_only(client: TestClient) -> None:
    if client.get("/metrics").status_code == 404:
        return
    response = client.post("/metrics")
    assert_error(response, 405, "method_not_allowed")
    assert {method.strip() for method in response.headers["allow"].split(",")} == {"GET", "HEAD"}


def test_route_template_in_scope_state(client: TestClient) -> None:
    from support_bot import observability_contract

    seen: list[str] = []
    original = observability_contract.route_template

    def spy(scope: Any) -> str:
        seen.append(original(scope))
        return seen[-1]

    observability_contract.route_template = spy
    try:
        chat(client)
        client.get("/health")
        client.get("/nope/123")
    finally:
        observability_contract.route_template = original
    assert seen == ["/v1/chat", "/health", "unmatched"]


def test_docs_openapi_and_metrics_are_labelled_with_their_routes(client: TestClient) -> None:
    from support_bot import observability_contract

    seen: list[str] = []
    original = observability_contract.route_template

    def spy(scope: Any) -> str:
        seen.append(original(scope))
        return seen[-1]

    observability_contract.route_template = spy
    try:
        client.get("/docs")
        client.get("/openapi.json")
        metrics = client.get("/metrics")
    finally:
        observability_contract.route_template = original
    # /metrics is a route only where the stack serves it; else a 404, unmatched
    metrics_route = "/metrics" if metrics.status_code == 200 else "unmatched"
    assert seen == ["/docs", "/openapi.json", metrics_route]
    if metrics.status_code == 200:
        text = client.get("/metrics").text
        for route in ("/docs", "/openapi.json", "/metrics"):
            assert f'agent_requests_total{{method="GET",route="{route}",status="200"}}' in text


async def test_stream_disconnect_cancels_the_run() -> None:
    """Raw ASGI: the client goes away after the first event; the agent run is cancelled."""
    cancelled = asyncio.Event()
    calls = 0

    async def sleep(seconds: float) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            return
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    app = create_app(make_settings(), model=FakeChatModel(latency_ms=1000, sleep=sleep))
    lifespan_in: asyncio.Queue[Message] = asyncio.Queue()
    lifespan_out: asyncio.Queue[Message] = asyncio.Queue()
    lifespan_scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    lifespan = asyncio.ensure_future(app(lifespan_scope, lifespan_in.get, lifespan_out.put))
    await lifespan_in.put({"type": "lifespan.startup"})
    assert (await lifespan_out.get())["type"] == "lifespan.startup.complete"

    body = json.dumps({"message": "a long story please"}).encode()
    first_chunk = asyncio.Event()
    sent: list[Message] = []
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await first_chunk.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            first_chunk.set()

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/stream",
        "raw_path": b"/v1/chat/stream",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    await asyncio.wait_for(app(scope, receive, send), 5)
    assert sent[0]["status"] == 200
    assert cancelled.is_set()
    assert lifecycle.state.in_flight == 0

    await lifespan_in.put({"type": "lifespan.shutdown"})
    assert (await lifespan_out.get())["type"] == "lifespan.shutdown.complete"
    await lifespan
