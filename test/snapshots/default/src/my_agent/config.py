"""Configuration from the environment (and a ``.env`` file in development).

``load_settings()`` validates everything at start; a bad value prints one line
naming the variable and the reason on stderr and exits with status 2.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .agent.mcp_config import McpConfigError, McpServerConfig, load_servers

Environment = Literal["development", "test", "staging", "production"]
# One image, three roles (runs/ and runner.py): serve HTTP, execute queued runs, migrate.
Role = Literal["api", "worker", "migrate"]
SessionStoreName = Literal["memory"]

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


class ModelPrice(BaseModel):
    """One model's prices in US dollars per million tokens (LLM_PRICES)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0, allow_inf_nan=False)
    output: float = Field(ge=0, allow_inf_nan=False)
    # Providers bill cached prompt tokens at a discount; unknown: the input price.
    cached_input: float | None = Field(default=None, ge=0, allow_inf_nan=False)


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


@dataclass(frozen=True)
class FallbackModel:
    """One ``LLM_FALLBACK_MODELS`` entry: ``model``, ``model|base_url`` or
    ``model|base_url|API_KEY_VARIABLE``."""

    model: str
    base_url: str = ""  # empty: the primary's endpoint (LLM_BASE_URL)
    api_key_env: str = ""  # the variable holding this endpoint's key


_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
MAX_FALLBACK_MODELS = 4


def parse_fallback_model(entry: str) -> FallbackModel:
    parts = [part.strip() for part in entry.split("|")]
    if len(parts) > 3 or not parts[0] or any(c.isspace() for c in parts[0]):
        raise ValueError(f"{entry!r} is not model, model|base_url or model|base_url|KEY_VARIABLE")
    model, base_url, key_env = (*parts, "", "")[:3]
    base_url = base_url.rstrip("/")
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ValueError(f"{entry!r}: the base URL must start with http:// or https://")
    if key_env and not _ENV_NAME.fullmatch(key_env):
        raise ValueError(f"{entry!r}: {key_env!r} is not an environment variable name")
    if key_env and not os.environ.get(key_env):
        raise ValueError(f"{entry!r}: the variable {key_env} is not set")
    return FallbackModel(model=model, base_url=base_url, api_key_env=key_env)


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
    # Cost controls (agent/fallback.py, agent/context_window.py, agent/response_cache.py).
    llm_fallback_models: Annotated[tuple[str, ...], NoDecode] = ()
    agent_max_input_tokens: int = Field(default=32_000, ge=0)
    response_cache_ttl_seconds: int = Field(default=0, ge=0, le=30 * 24 * 3600)
    response_cache_shared: bool = False
    llm_cheap_model: str = ""
    llm_cheap_max_chars: int = Field(default=200, ge=1, le=100_000)
    token_budget_daily: int = Field(default=0, ge=0)

    # Budgets per API key and per end user (agent/key_budget.py), spend from a price table.
    key_token_budget_daily: int = Field(default=0, ge=0)
    user_token_budget_daily: int = Field(default=0, ge=0)
    budget_trust_user_id: bool = False
    budget_warning_ratio: float = Field(default=0.8, gt=0, le=1)
    budget_metric_keys_max: int = Field(default=50, ge=1, le=1000)
    key_id_secret: str = Field(default="", repr=False)
    llm_prices: Annotated[dict[str, ModelPrice], NoDecode] = Field(default_factory=dict)

    session_store: SessionStoreName = "memory"
    session_max_messages: int = Field(default=50, ge=1)
    redis_url: str = Field(default="", repr=False)
    # Services sharing one Redis keep their sessions, counters and run events apart by it.
    redis_key_prefix: str = Field(default="agent:", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    database_url: str = Field(default="", repr=False)

    # Bounds against a misbehaving model endpoint and a failing store; key strength.
    llm_max_response_bytes: int = Field(default=1_048_576, ge=1024)
    store_timeout: float = Field(default=2, gt=0, le=60)
    memory_store_max_bytes: int = Field(default=67_108_864, ge=1024)
    api_key_min_length: int = Field(default=16, ge=1, le=256)

    # Capacity of one worker: connections to the model endpoint, and agent turns
    # in flight (0: as many as LLM_MAX_CONNECTIONS); beyond it 503 overloaded.
    llm_max_connections: int = Field(default=256, ge=1, le=10_000)
    max_inflight_turns: int = Field(default=0, ge=0, le=10_000)
    ready_when_saturated: bool = True

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
        "api_keys",
        "cors_origins",
        "fake_llm_misbehave",
        "forwarded_allow_ips",
        "llm_fallback_models",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("llm_prices", mode="before")
    @classmethod
    def _json_object(cls, value: object) -> object:
        # Decoded here, not by pydantic-settings: its JSON error is not a
        # ValidationError, and would not end in the one line and exit 2.
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError(
                    'must be a JSON object: {"<model>": {"input": <USD per million tokens>,'
                    ' "output": <USD>, "cached_input": <USD, optional>}}'
                ) from None
        return value

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

    @field_validator("llm_fallback_models")
    @classmethod
    def _fallbacks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > MAX_FALLBACK_MODELS:
            raise ValueError(f"at most {MAX_FALLBACK_MODELS} fallback models")
        for entry in value:
            parse_fallback_model(entry)
        return value

    @model_validator(mode="after")
    def _auth_checks(self) -> Settings:
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
        return self

    @model_validator(mode="after")
    def _model_and_budget_checks(self) -> Settings:
        if self.key_token_budget_daily and not self.auth_enabled:
            raise ValueError(
                "KEY_TOKEN_BUDGET_DAILY: counts per API key, so it needs API_KEYS (and auth on)"
            )
        if self.user_token_budget_daily and not self.budget_trust_user_id:
            raise ValueError(
                "USER_TOKEN_BUDGET_DAILY: needs BUDGET_TRUST_USER_ID=true (user_id is the"
                " client's word: set it only when the callers are trusted to send the real one)"
            )
        if self.llm_fallback_models and self.uses_fake_llm:
            raise ValueError(
                "LLM_FALLBACK_MODELS: needs a model endpoint (LLM_BASE_URL or LLM_API_KEY);"
                " the fake model never fails"
            )
        if self.llm_cheap_model and self.uses_fake_llm:
            raise ValueError(
                "LLM_CHEAP_MODEL: needs a model endpoint (LLM_BASE_URL or LLM_API_KEY)"
            )
        if self.max_inflight_turns > self.llm_max_connections:
            # The turns beyond the pool would queue inside the HTTP client.
            raise ValueError(
                f"MAX_INFLIGHT_TURNS: at most LLM_MAX_CONNECTIONS ({self.llm_max_connections})"
            )
        return self

    @model_validator(mode="after")
    def _store_and_role_checks(self) -> Settings:
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
        return self

    @model_validator(mode="after")
    def _read_mcp_servers_file(self) -> Settings:
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
    def inflight_turns_limit(self) -> int:
        """MAX_INFLIGHT_TURNS, or LLM_MAX_CONNECTIONS when it is 0."""
        return self.max_inflight_turns or self.llm_max_connections

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
    def fallback_models(self) -> tuple[FallbackModel, ...]:
        return tuple(parse_fallback_model(entry) for entry in self.llm_fallback_models)

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
    if loc and loc[0] == "llm_prices" and len(loc) > 1:
        return f"invalid configuration: LLM_PRICES: {'.'.join(loc[1:])}: {message}"
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
