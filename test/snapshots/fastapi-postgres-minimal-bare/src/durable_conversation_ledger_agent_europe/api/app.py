"""The app factory: ``create_app()`` (uvicorn calls it with ``--factory``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from .. import __version__, observability
from ..agent.llm import ChatModel
from ..agent.tools import ToolRegistry
from ..config import Settings, load_settings
from ..middleware import ASGIApp, Message, Receive, Scope, Send
from ..middleware.access_log import UNMATCHED
from ..sessions import SessionStore
from ..web.app import (
    CORS_ALLOW_HEADERS,
    CORS_ALLOW_METHODS,
    CORS_EXPOSE_HEADERS,
    CORS_MAX_AGE_SECONDS,
    wrap_app,
)
from ..web.mcp_endpoint import openapi_paths
from ..web.services import running_services
from .errors import install_error_handlers
from .routes import router

DESCRIPTION = "Keeps a durable ledger of conversations"


class RouteLabeler:
    """Puts the matched route template in ``scope["state"]["route_template"]``.

    Starlette/FastAPI record the matched route (also a method-mismatch match)
    in ``scope["route"]`` while routing; metrics and access logs label by its
    template, never by the raw path. Anything else is ``unmatched``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def _record(scope: Scope) -> None:
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        scope["state"]["route_template"] = str(template) if template else UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["route_template"] = UNMATCHED

        async def send_labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._record(scope)
            await send(message)

        try:
            await self.app(scope, receive, send_labelled)
        finally:
            self._record(scope)


class _AsgiEndpoint:
    """Lets Starlette mount a plain ASGI function as a route endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    model: ChatModel | None = None,
    store: SessionStore | None = None,
    tools: ToolRegistry | None = None,
) -> ASGIApp:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running_services(settings, model=model, store=store, tools=tools) as services:
            app.state.services = services
            yield

    app = FastAPI(
        title="durable-conversation-ledger-agent-europe",
        description=DESCRIPTION,
        version=__version__,
        docs_url="/docs" if settings.docs_on else None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry stays off: the observability layer's middleware
        # is the one server span and the one set of request metrics, for every stack.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    install_error_handlers(app)
    app.include_router(router)
    core_paths = openapi_paths(settings)
    if core_paths:
        framework_openapi = app.openapi

        def openapi_with_core_paths() -> dict[str, Any]:
            schema = framework_openapi()  # built once, then cached by FastAPI
            schema["paths"].update(core_paths)
            return schema

        app.openapi = openapi_with_core_paths  # type: ignore[method-assign]
    metrics = observability.metrics_app()
    if metrics is not None:
        app.router.routes.append(
            Route("/metrics", _AsgiEndpoint(metrics), methods=["GET"], include_in_schema=False)
        )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=list(CORS_ALLOW_METHODS),
            allow_headers=list(CORS_ALLOW_HEADERS),
            expose_headers=list(CORS_EXPOSE_HEADERS),
            allow_credentials=False,
            max_age=CORS_MAX_AGE_SECONDS,
        )
    return wrap_app(RouteLabeler(app), settings)
