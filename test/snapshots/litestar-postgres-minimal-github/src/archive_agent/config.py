"""Configuration from the environment (and a ``.env`` file in development).

``load_settings()`` validates everything at start; a bad value prints one line
naming the variable and the reason on stderr and exits with status 2.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .agent.mcp_config import McpConfigError, McpServerConfig, load_servers

Environment = Literal["development", "test", "staging", "production"]
# One image, three roles (runs/ and runner.py): serve HTTP, execute queued runs, migrate.
Role = Literal["api", "worker", "migrate"]
SessionStoreName = Literal["memory", "postgres"]

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        frozen=True,
    )

    port: int = Field(default=8000, ge=1, le=65535)
    host: str = "0.0.0.0"
    workers: int = Field(default=0, ge=0, le=256)
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    log_format: Literal["json", "console"] = "json"
    log_payloads: bool = False
    environment: Environment = "development"

    api_keys: Annotated[tuple[str, ...], NoDecode] = ()
    auth_disabled: bool = False
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    docs_enabled: bool | None = None
    playground_enabled: bool | None = None
    rate_limit_per_minute: int = Field(default=0, ge=0)

    max_body_bytes: int = Field(default=1_048_576, ge=1)
    max_message_chars: int = Field(default=8000, ge=1)
    request_timeout: float = Field(default=30, gt=0)
    shutdown_timeout: float = Field(default=25, ge=0)

    # HTTP connection bounds (http_bounds.py) and the proxies whose forwarding
    # headers are believed (none by default).
    max_header_bytes: int = Field(default=16_384, ge=1024, le=1_048_576)
    header_read_timeout: float = Field(default=10, gt=0, le=300)
    keepalive_timeout: int = Field(default=5, ge=1, le=300)
    body_read_timeout: float = Field(default=15, gt=0, le=600)
    max_connections: int = Field(default=1000, ge=1, le=100_000)
    forwarded_allow_ips: Annotated[tuple[str, ...], NoDecode] = ()

    llm_base_url: str = ""
    llm_api_key: str = Field(default="", repr=False)
    llm_model: str = ""
    llm_timeout: float = Field(default=20, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    fake_llm_latency_ms: int = Field(default=0, ge=0, le=600_000)
    # Only the fake model honours it: misbehaviour on purpose, to prove the eval gate fails.
    fake_llm_misbehave: Annotated[
        tuple[Literal["leak_secret", "unoffered_tool"], ...], NoDecode
    ] = ()

    agent_max_steps: int = Field(default=8, ge=1, le=100)
    agent_max_output_tokens: int = Field(default=1024, ge=1)
    token_budget_daily: int = Field(default=0, ge=0)

    session_store: SessionStoreName = "memory"
    session_max_messages: int = Field(default=50, ge=1)
    redis_url: str = Field(default="", repr=False)
    database_url: str = Field(default="", repr=False)

    # Bounds against a misbehaving model endpoint and a failing store; key strength.
    llm_max_response_bytes: int = Field(default=1_048_576, ge=1024)
    store_timeout: float = Field(default=2, gt=0, le=60)
    memory_store_max_bytes: int = Field(default=67_108_864, ge=1024)
    api_key_min_length: int = Field(default=16, ge=1, le=256)

    # Background runs (/v1/runs, runs/): the process's role, a worker's concurrent
    # runs, a run's own time limit, how long a finished run and its events are
    # kept, and how long a run may go without its worker's heartbeat before
    # another worker takes it over.
    role: Role = "api"
    run_concurrency: int = Field(default=4, ge=1, le=1000)
    run_timeout: float = Field(default=600, gt=0, le=86_400)
    run_retention_seconds: int = Field(default=86_400, ge=60, le=30 * 86_400)
    run_visibility_timeout: int = Field(default=30, ge=2, le=3600)
    # Deployments (or tests) sharing one Redis or Postgres keep their runs apart by name.
    run_queue_name: str = Field(default="agent-runs", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # MCP (agent/mcp_config.py, web/mcp_endpoint.py)
    mcp_servers_file: str = ""
    mcp_allow_stdio: bool = False
    mcp_server_enabled: bool = False
    _mcp_servers: tuple[McpServerConfig, ...] = PrivateAttr(default=())

    @field_validator(
        "api_keys", "cors_origins", "fake_llm_misbehave", "forwarded_allow_ips", mode="before"
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator(
        "log_level", "log_format", "environment", "session_store", "role", mode="before"
    )
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("llm_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "*" in value:
            raise ValueError("'*' is not allowed; list the allowed origins")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if item == "*":
                raise ValueError("'*' is not allowed; list the proxies' addresses or networks")
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        # Deployed environments (staging, production) never run open by accident.
        deployed = self.environment in ("staging", "production") and not self.auth_disabled
        if deployed and not self.api_keys:
            raise ValueError(
                f"API_KEYS: required when ENVIRONMENT={self.environment} "
                "(or set AUTH_DISABLED=true)"
            )
        if deployed and any(len(key) < self.api_key_min_length for key in self.api_keys):
            raise ValueError(
                f"API_KEYS: every key must have at least API_KEY_MIN_LENGTH "
                f"({self.api_key_min_length}) characters when ENVIRONMENT={self.environment}"
            )
        store: str = self.session_store
        if store == "redis" and not self.redis_url:
            raise ValueError("REDIS_URL: required when SESSION_STORE=redis")
        if store == "postgres" and not self.database_url:
            raise ValueError("DATABASE_URL: required when SESSION_STORE=postgres")
        if store == "memory" and self.workers > 1:
            # Each worker process would keep its own sessions, token budget and
            # rate-limit windows: one session's turns would alternate between them.
            raise ValueError(
                "WORKERS: at most 1 with SESSION_STORE=memory (each worker would have its own"
                " sessions, budget and rate limit); use a shared store to run several"
            )
        if self.role == "worker" and store == "memory":
            raise ValueError(
                "ROLE: worker needs a shared store (SESSION_STORE=redis or postgres);"
                " with the memory store the api runs runs in-process"
            )
        if self.run_timeout < self.request_timeout:
            raise ValueError("RUN_TIMEOUT: must be at least REQUEST_TIMEOUT")
        if self.mcp_servers_file:
            try:
                self._mcp_servers = load_servers(
                    self.mcp_servers_file,
                    os.environ,
                    production=self.is_production,
                    allow_stdio=self.mcp_allow_stdio,
                )
            except McpConfigError as exc:
                raise ValueError(f"MCP_SERVERS_FILE: {exc}") from None
        return self

    @property
    def mcp_servers(self) -> tuple[McpServerConfig, ...]:
        """The servers of MCP_SERVERS_FILE, read and checked at start."""
        return self._mcp_servers

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys) and not self.auth_disabled

    @property
    def docs_on(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else not self.is_production

    @property
    def playground_on(self) -> bool:
        """The /playground page: on unless production, where PLAYGROUND_ENABLED=true turns it on."""
        if self.playground_enabled is not None:
            return self.playground_enabled
        return not self.is_production

    @property
    def uses_fake_llm(self) -> bool:
        return not self.llm_base_url and not self.llm_api_key

    @property
    def llm_endpoint(self) -> str:
        return self.llm_base_url or DEFAULT_OPENAI_BASE_URL

    @property
    def model_name(self) -> str:
        if self.uses_fake_llm:
            return "fake"
        return self.llm_model or DEFAULT_OPENAI_MODEL


def describe_error(error: ValidationError) -> str:
    """One line: ``invalid configuration: VAR: reason``."""
    first = error.errors(include_url=False)[0]
    loc = [str(part) for part in first.get("loc", ()) if part != "__root__"]
    message = str(first.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    if loc:
        return f"invalid configuration: {loc[0].upper()}: {message}"
    return f"invalid configuration: {message}"


def load_settings() -> Settings:
    """Settings from the environment, or exit 2 with one line on stderr."""
    try:
        return Settings()
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        raise SystemExit(2) from None
