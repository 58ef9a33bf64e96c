"""The API key, checked before any framework reads the request body.

A request to an agent route without a valid key is a 401 whatever its body
(malformed JSON, too large, not JSON): authentication comes before parsing on
every framework, so an unauthenticated caller learns nothing about how the
body would have been taken. The framework's own guard (``web.admission``)
still checks the drain, the key and the rate limit in that order.
"""

from __future__ import annotations

from ..web.errors import Unauthorized
from ..web.security import authenticate
from . import ASGIApp, Receive, Scope, Send, header
from .errors import send_error

AGENT_PATHS: tuple[str, ...] = ("/v1/chat", "/v1/chat/stream")


class ApiKeyMiddleware:
    def __init__(self, app: ASGIApp, api_keys: tuple[str, ...]) -> None:
        self.app = app
        self.api_keys = api_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and scope.get("path") in AGENT_PATHS
        ):
            try:
                authenticate(
                    header(scope, b"authorization"), header(scope, b"x-api-key"), self.api_keys
                )
            except Unauthorized as exc:
                await send_error(send, exc)
                return
        await self.app(scope, receive, send)
