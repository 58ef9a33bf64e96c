"""The bodies of the contract's errors, /health, /ready and /v1/sessions (OpenAPI models)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

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
