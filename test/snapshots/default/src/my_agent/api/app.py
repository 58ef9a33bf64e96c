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
from ..observability_contract import UNMATCHED
from ..sessions import SessionStore
from ..web.app import (
    CORS_ALLOW_HEADERS,
    CORS_ALLOW_METHODS,
    CORS_EXPOSE_HEADERS,
    CORS_MAX_AGE_SECONDS,
    wrap_app,
)
from ..web.openapi import finish_openapi
from ..web.services import running_services
from .errors import install_error_handlers
from .routes import router
from .run_routes import router as run_router

DESCRIPTION = "An LLM agent service"


class RouteLabeler:
    """Puts the matched route template in ``scope["state"]["route_template"]``.

    FastAPI records its own matched routes (also a method-mismatch match) in
    ``scope["route"]``; for plain Starlette routes (``/docs``, ``/openapi.json``,
    ``/metrics``) only ``scope["endpoint"]`` is set, so their templates come from
    ``templates_by_endpoint``. Metrics and access logs label by the template,
    never by the raw path. Anything else is ``unmatched``.
    """

    def __init__(self, app: ASGIApp, templates_by_endpoint: dict[object, str]) -> None:
        self.app = app
        self.templates_by_endpoint = templates_by_endpoint

    def _record(self, scope: Scope) -> None:
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        if not template:
            template = self.templates_by_endpoint.get(scope.get("endpoint"))
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
        title="my-agent",
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
    generate_openapi = app.openapi
    document: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        # FastAPI's document, made exact by the core's finish_openapi(), built once.
        if not document:
            document.update(finish_openapi(generate_openapi(), settings))
        return document

    app.openapi = openapi  # type: ignore[method-assign]
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(run_router)
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
    templates_by_endpoint: dict[object, str] = {
        route.endpoint: route.path_format for route in app.routes if isinstance(route, Route)
    }
    return wrap_app(
        RouteLabeler(app, templates_by_endpoint),
        settings,
        services=lambda: getattr(app.state, "services", None),
    )
