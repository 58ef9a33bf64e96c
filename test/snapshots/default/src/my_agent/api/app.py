"""The app factory: ``create_app()`` (uvicorn calls it with ``--factory``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from .. import __version__, lifecycle, observability
from ..agent.llm import ChatModel
from ..agent.service import start_services, stop_services
from ..agent.tools import ToolRegistry
from ..asgi import ASGIApp, Message, Receive, Scope, Send
from ..asgi.access_log import UNMATCHED, AccessLogMiddleware
from ..asgi.body_limit import BodyLimitMiddleware
from ..asgi.request_context import RequestContextMiddleware
from ..config import Settings, load_settings
from ..sessions import SessionStore
from .errors import install_error_handlers
from .routes import router

logger = logging.getLogger(__name__)

DESCRIPTION = "An LLM agent service"


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
        lifecycle.state.reset()
        observability.setup(settings)
        services = await start_services(settings, model=model, store=store, tools=tools)
        app.state.services = services
        lifecycle.state.mark_ready()
        logger.info("ready", extra={"store": services.store.name, "model": services.model.name})
        try:
            yield
        finally:
            lifecycle.state.mark_not_ready()
            await stop_services(services)
            observability.shutdown()
            logger.info("stopped")

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
    install_error_handlers(app)
    app.include_router(router)
    metrics = observability.metrics_app()
    if metrics is not None:
        app.router.routes.append(
            Route("/metrics", _AsgiEndpoint(metrics), methods=["GET"], include_in_schema=False)
        )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-API-Key",
                "X-Request-ID",
                "traceparent",
            ],
            expose_headers=["X-Request-ID", "X-Trace-Id", "Server-Timing", "Retry-After"],
            allow_credentials=False,
            max_age=600,
        )

    # Outermost first: observability -> request context -> access log -> body limit -> app.
    wrapped: ASGIApp = RouteLabeler(app)
    wrapped = BodyLimitMiddleware(wrapped, settings.max_body_bytes)
    wrapped = AccessLogMiddleware(wrapped)
    wrapped = RequestContextMiddleware(wrapped)
    return observability.instrument_app(wrapped, settings)
