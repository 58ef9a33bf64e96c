"""Shared test fixtures: settings without a .env file, an app against the fake model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from durable_conversation_ledger_agent_europe import lifecycle
from durable_conversation_ledger_agent_europe.api import create_app
from durable_conversation_ledger_agent_europe.config import Settings


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
def client_factory() -> Iterator[Callable[..., TestClient]]:
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
def client(client_factory: Callable[..., TestClient]) -> TestClient:
    return client_factory()
