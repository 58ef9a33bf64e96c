"""Shared test fixtures: settings without a .env file, an app against the fake model.

``TestClient`` is the framework's own (``api_client.py``, from the framework layer).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import httpx2
import pytest

from my_agent import lifecycle
from my_agent.api import create_app
from my_agent.config import Settings

from api_client import TestClient

ClientFactory = Callable[..., TestClient]
# Starlette's TestClient answers with httpx2's responses (httpx2 comes with the mcp SDK),
# Litestar's with httpx's.
Response = httpx.Response | httpx2.Response


def make_settings(**overrides: Any) -> Settings:
    """Settings from defaults and ``overrides`` only (no environment, no .env)."""
    values: dict[str, Any] = {"log_format": "json", "environment": "test"}
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("API_KEYS", "LLM_BASE_URL", "LLM_API_KEY", "ENVIRONMENT", "SESSION_STORE"):
        monkeypatch.delenv(name, raising=False)
    # Tests never ship telemetry anywhere (standard OpenTelemetry variables; other stacks ignore them).
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    lifecycle.state.reset()
    yield
    lifecycle.state.reset()


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def client_factory() -> Iterator[ClientFactory]:
    """Build started test clients: ``client_factory(settings, model=..., store=...)``."""
    clients: list[TestClient] = []

    def build(settings: Settings | None = None, **kwargs: Any) -> TestClient:
        app = create_app(settings or make_settings(), **kwargs)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(client_factory: ClientFactory) -> TestClient:
    return client_factory()


def assert_contract_headers(response: Response) -> None:
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,128}", response.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-trace-id"])
    assert re.fullmatch(r"app;dur=\d+(\.\d+)?", response.headers["server-timing"])


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "trace_id", "details"}
    assert error["code"] == code
    assert error["trace_id"] == response.headers["x-trace-id"]
    assert "Traceback" not in response.text
    assert_contract_headers(response)
    return dict(error)
