"""Admission of agent requests, at the ASGI level, before any framework reads the body.

For the agent routes (``POST /v1/chat``, ``POST /v1/chat/stream``,
``GET /v1/sessions/{session_id}``, ``GET /v1/usage``, ``/v1/runs…``) it calls
``web.admission.admit()`` (the drain, the API key, the rate limit, and for a
turn or a new run the API key's token budget) and answers its refusal itself.
The caller it admitted is ``scope["state"]["caller"]`` (whose runs it may
see). A turn then takes one of the worker's turn slots for as long as it runs,
its stream included (503 ``overloaded`` when none is free); a run takes none
here (a worker executes it). One step per request instead of a framework
dependency or guard on each route: FastAPI's dependency resolution costs about
a fifth of a turn's CPU. A request without a valid key is a 401 whatever its
body (malformed JSON, too large, not JSON): authentication comes before parsing
on every framework. Its refusals carry the CORS headers for an allowed origin
(web/cors.py), as the framework's own answers do.
"""

from __future__ import annotations

from collections.abc import Callable

from ..web.admission import admit
from ..web.cors import refusal_cors_headers
from ..web.errors import AgentError
from ..web.services import Services
from . import ASGIApp, Receive, Scope, Send, header
from .errors import send_error

TURN_PATHS: frozenset[str] = frozenset({"/v1/chat", "/v1/chat/stream"})
SESSIONS_PREFIX = "/v1/sessions/"
USAGE_PATH = "/v1/usage"
RUNS_PATH = "/v1/runs"


def is_turn(scope: Scope) -> bool:
    return scope.get("method") == "POST" and scope.get("path") in TURN_PATHS


def is_run_request(scope: Scope) -> bool:
    """``/v1/runs`` and below: admitted here, executed by a worker (no turn slot)."""
    path: str = scope.get("path", "")
    return path == RUNS_PATH or path.startswith(RUNS_PATH + "/")


def queues_a_run(scope: Scope) -> bool:
    return scope.get("method") == "POST" and scope.get("path") == RUNS_PATH


def is_read(scope: Scope) -> bool:
    """A session's history or the caller's usage: admitted, spends no tokens."""
    return is_session_read(scope) or (
        scope.get("method") == "GET" and scope.get("path") == USAGE_PATH
    )


def is_session_read(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return (
        scope.get("method") == "GET"
        and path.startswith(SESSIONS_PREFIX)
        and "/" not in path[len(SESSIONS_PREFIX) :]
        and len(path) > len(SESSIONS_PREFIX)
    )


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, services: Callable[[], Services | None]) -> None:
        self.app = app
        # The running services (None before the lifespan started them).
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        turn = is_turn(scope)
        guarded = turn or is_read(scope) or is_run_request(scope)
        services = self.services() if guarded else None
        if services is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        try:
            caller = await admit(
                services,
                client_host=client[0] if client else None,
                authorization=header(scope, b"authorization"),
                x_api_key=header(scope, b"x-api-key"),
                spends_tokens=turn or queues_a_run(scope),
            )
            if turn:
                services.turns.acquire()
        except AgentError as exc:
            origin = header(scope, b"origin")
            cors = refusal_cors_headers(origin, services.settings.cors_origins)
            await send_error(send, exc, cors)
            return
        scope.setdefault("state", {})["caller"] = caller
        if not turn:
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            services.turns.release()
