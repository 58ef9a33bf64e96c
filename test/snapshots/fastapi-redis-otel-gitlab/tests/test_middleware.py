"""The pure-ASGI middleware, driven without any web framework."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from support_bot import lifecycle
from support_bot.context import current_request_id, current_trace_id
from support_bot.middleware import (
    Message,
    Receive,
    Scope,
    Send,
    header,
)
from support_bot.middleware.body_limit import (
    BodyLimitMiddleware,
    is_json_media_type,
)
from support_bot.middleware.json_depth import JsonDepthScanner
from support_bot.middleware.request_context import (
    RequestContextMiddleware,
    parse_traceparent,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body, answers with what it saw."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    scope.setdefault("state", {})["route_template"] = "/echo"
    payload = json.dumps(
        {"size": len(body), "request_id": current_request_id(), "trace_id": current_trace_id()}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")  # type: ignore[arg-type]


async def test_request_context_headers() -> None:
    app = RequestContextMiddleware(echo_app)
    async with client(app) as c:
        response = await c.get("/", headers={"X-Request-ID": "abc.DEF_1-2"})
        assert response.headers["x-request-id"] == "abc.DEF_1-2"
        assert response.json()["request_id"] == "abc.DEF_1-2"
        assert len(response.headers["x-trace-id"]) == 32
        assert response.headers["server-timing"].startswith("app;dur=")

        response = await c.get("/", headers={"X-Request-ID": "bad id!" + "x" * 200})
        assert response.headers["x-request-id"] != "bad id!"
        assert len(response.headers["x-request-id"]) == 32

        response = await c.get("/", headers={"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"})
        assert response.headers["x-trace-id"] == TRACE
        assert response.json()["trace_id"] == TRACE

        response = await c.get("/", headers={"traceparent": "garbage"})
        assert response.headers["x-trace-id"] != TRACE
    assert lifecycle.state.in_flight == 0


def test_parse_traceparent() -> None:
    assert parse_traceparent(f"00-{TRACE}-00f067aa0ba902b7-01") == (TRACE, "00f067aa0ba902b7")
    assert parse_traceparent(f"00-{TRACE.upper()}-00f067aa0ba902b7-01") == (
        TRACE,
        "00f067aa0ba902b7",
    )
    assert parse_traceparent(None) is None
    assert parse_traceparent(f"ff-{TRACE}-00f067aa0ba902b7-01") is None
    assert parse_traceparent(f"00-{'0' * 32}-00f067aa0ba902b7-01") is None
    assert parse_traceparent(f"00-{TRACE}-{'0' * 16}-01") is None


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        return None

    for middleware in (
        RequestContextMiddleware(app),
        BodyLimitMiddleware(app, 10),
    ):
        await middleware({"type": "lifespan"}, receive, send)
    assert seen == ["lifespan"] * 2


async def test_body_limit() -> None:
    app = BodyLimitMiddleware(echo_app, max_body_bytes=10)
    async with client(app) as c:
        ok = await c.post("/", content=b'{"a": 1}', headers={"content-type": "application/json"})
        assert ok.json()["size"] == 8

        too_big = await c.post("/", content=b"x" * 11, headers={"content-type": "application/json"})
        assert too_big.status_code == 413
        assert too_big.json()["error"]["code"] == "payload_too_large"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b"12345"

        chunked = await c.post("/", content=chunks(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413

        wrong_type = await c.post("/", content=b"hello", headers={"content-type": "text/plain"})
        assert wrong_type.status_code == 415
        assert wrong_type.json()["error"]["code"] == "unsupported_media_type"

        no_type = await c.post("/", content=b"hello")
        assert no_type.status_code == 415

        vendor_json = await c.post(
            "/", content=b"{}", headers={"content-type": "application/vnd.api+json; charset=utf-8"}
        )
        assert vendor_json.status_code == 200

        empty = await c.post("/")
        assert empty.status_code == 200

        bad_length = await c.post(
            "/",
            content=b"{}",
            headers={"content-type": "application/json", "content-length": "abc"},
        )
        assert bad_length.status_code == 400


async def test_body_limit_replaces_whatever_the_app_answered() -> None:
    async def swallowing_app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while (await receive()).get("more_body"):
                pass
        except Exception:
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"app said 400"})
            return

    async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while (await receive()).get("more_body"):
                pass
        except Exception as exc:
            raise RuntimeError("wrapped") from exc

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"12345"

    for app in (swallowing_app, failing_app):
        async with client(BodyLimitMiddleware(app, 10)) as c:
            response = await c.post(
                "/", content=chunks(), headers={"content-type": "application/json"}
            )
            assert response.status_code == 413
            assert response.json()["error"]["code"] == "payload_too_large"


async def test_body_limit_refuses_deep_json_while_it_is_read() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"[["

    async with client(BodyLimitMiddleware(echo_app, max_body_bytes=1_000_000)) as c:
        response = await c.post("/", content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert response.json()["error"] == {
            "code": "bad_request",
            "message": "JSON nested deeper than 64 levels",
            "trace_id": response.json()["error"]["trace_id"],
            "details": [],
        }


async def test_body_limit_lets_other_errors_through() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        async with client(BodyLimitMiddleware(broken, 10)) as c:
            await c.post("/", content=b"{}", headers={"content-type": "application/json"})


def test_is_json_media_type() -> None:
    assert is_json_media_type("application/json")
    assert is_json_media_type("Application/JSON; charset=utf-8")
    assert is_json_media_type("application/problem+json")
    assert not is_json_media_type("text/json+x")
    assert not is_json_media_type(None)


async def test_access_log_line(caplog: pytest.LogCaptureFixture) -> None:
    app = RequestContextMiddleware(echo_app)
    with caplog.at_level(logging.INFO, logger="access"):
        async with client(app) as c:
            await c.get("/anything?secret=1", headers={"Authorization": "Bearer sk-secret"})
    record = next(r for r in caplog.records if r.name == "access")
    assert record.getMessage() == "request"
    assert record.route == "/echo"  # type: ignore[attr-defined]
    assert record.method == "GET"  # type: ignore[attr-defined]
    assert record.status == 200  # type: ignore[attr-defined]
    assert record.duration_ms >= 0  # type: ignore[attr-defined]
    assert "sk-secret" not in caplog.text
    assert "secret=1" not in caplog.text


async def test_access_log_turns_escaped_exceptions_into_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("internal secret")

    async def broken_late(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
        raise RuntimeError("after the response")

    async with client(RequestContextMiddleware(broken)) as c:
        response = await c.get("/x")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert body["error"]["trace_id"] == response.headers["x-trace-id"]
    assert "secret" not in response.text
    unmatched = [r for r in caplog.records if r.name == "access"]
    assert unmatched[0].route == "unmatched"  # type: ignore[attr-defined]

    async with client(RequestContextMiddleware(broken_late)) as c:
        assert (await c.get("/y")).status_code == 500


def test_header_helper() -> None:
    scope: Scope = {"headers": [(b"a", b"1"), (b"b", b"2"), (b"a", b"3")]}
    assert header(scope, b"a") == "1"
    assert header(scope, b"c") is None


# --- the JSON nesting bound --------------------------------------------------------------


def fed(scanner: JsonDepthScanner, text: bytes, chunk_size: int) -> bool:
    return all(
        scanner.feed(text[start : start + chunk_size]) for start in range(0, len(text), chunk_size)
    )


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 1_000_000])
def test_json_depth_scanner_counts_only_structural_brackets(chunk_size: int) -> None:
    deep = b"[" * 65 + b"]" * 65
    assert not fed(JsonDepthScanner(), deep, chunk_size)
    assert fed(JsonDepthScanner(), b"[" * 64 + b"]" * 64, chunk_size)
    assert not fed(JsonDepthScanner(), b'{"a": ' + b"{" * 64 + b"}" * 64 + b"}", chunk_size)
    # Brackets inside strings are text, escaped quotes do not end a string,
    # and closing brackets bring the depth back down.
    in_string = b'{"message": "' + b"[{" * 500 + b'\\"' + b"[" * 500 + b'", "x": 1}'
    assert fed(JsonDepthScanner(), in_string, chunk_size)
    after_escapes = b'["\\\\", ' + b"[" * 64 + b"]" * 64 + b"]"  # the string ends after \\
    assert not fed(JsonDepthScanner(), after_escapes, chunk_size)
    siblings = b"[" + b"[[]]," * 1000 + b"[]]"
    assert fed(JsonDepthScanner(), siblings, chunk_size)
