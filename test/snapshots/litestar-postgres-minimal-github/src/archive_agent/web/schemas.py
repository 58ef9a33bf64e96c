"""The bodies of the contract's errors, /health, /ready, /v1/sessions and /v1/usage (OpenAPI models)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ReadyStatus = Literal["ready", "not_ready", "shutting_down"]


class ErrorDetail(BaseModel):
    field: str
    reason: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    trace_id: str
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    error: ErrorInfo


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str
    uptime_seconds: float


class ReadyResponse(BaseModel):
    status: ReadyStatus
    checks: dict[str, str]


class SessionMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class SessionHistory(BaseModel):
    """``GET /v1/sessions/{session_id}``: the session's kept history, oldest first."""

    session_id: str
    messages: list[SessionMessage]


class BudgetUse(BaseModel):
    used_tokens: int
    limit_tokens: int = Field(description="tokens per UTC day; 0 = unlimited")
    remaining_tokens: int | None = Field(description="null when unlimited")


class UsageResponse(BaseModel):
    """``GET /v1/usage``: today's token use (UTC) of the calling key and of the service."""

    date: str = Field(description="the UTC day counted, YYYY-MM-DD")
    resets_in_seconds: int = Field(description="until 00:00 UTC, when every budget starts over")
    key_id: str | None = Field(description="the calling key's short id (null without API keys)")
    key: BudgetUse | None = Field(
        description="the key's budget (KEY_TOKEN_BUDGET_DAILY); null when it is not set"
    )
    service: BudgetUse | None = Field(
        description="the service-wide budget (TOKEN_BUDGET_DAILY); null when it is not set"
    )
