"""The bodies of the contract's errors, /health and /ready (OpenAPI models)."""

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
