"""A background run as the runs API shows it: its record, its statuses, its body."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from ..agent.schemas import ChatResponse
from ..web.schemas import ErrorInfo

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})

# The event that ends a run's event stream (as on /v1/chat/stream), and the one
# a run's new attempt writes first when a worker was lost mid-run.
END_EVENTS: frozenset[str] = frozenset({"done", "error"})
RETRY_EVENT = "retry"


@dataclass
class RunRecord:
    id: str
    owner: str
    status: RunStatus
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    trace_id: str = ""

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class RunOutcome:
    """What an attempt ended with: the run's final status and its result or error."""

    status: RunStatus
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "result": self.result, "error": self.error}

    @classmethod
    def from_json(cls, value: object) -> RunOutcome | None:
        if not isinstance(value, dict) or value.get("status") not in TERMINAL_STATUSES:
            return None
        return cls(status=value["status"], result=value.get("result"), error=value.get("error"))


def owner_of(caller: str) -> str:
    """Who a run belongs to: a digest of the API key (never the key itself), or
    ``anonymous`` when authentication is off (every caller then sees every run)."""
    if not caller.startswith("key:"):
        return "anonymous"
    return hashlib.sha256(caller.encode()).hexdigest()[:32]


def new_run_id(owner: str, idempotency_key: str | None) -> str:
    """A fresh id, or with an ``Idempotency-Key`` the same id for the same owner and key."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{owner}\n{idempotency_key}".encode()).hexdigest()[:32]


class RunLinks(BaseModel):
    run: str
    events: str
    cancel: str


class RunResponse(BaseModel):
    """``POST /v1/runs`` (202), ``GET /v1/runs/{run_id}``, ``POST /v1/runs/{run_id}/cancel``."""

    id: str
    status: RunStatus
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    result: ChatResponse | None = None
    error: ErrorInfo | None = None
    links: RunLinks

    @classmethod
    def of(cls, record: RunRecord) -> RunResponse:
        base = f"/v1/runs/{record.id}"
        return cls(
            id=record.id,
            status=record.status,
            created_at=record.created_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
            result=ChatResponse.model_validate(record.result) if record.result else None,
            error=ErrorInfo.model_validate(record.error) if record.error else None,
            links=RunLinks(run=base, events=f"{base}/events", cancel=f"{base}/cancel"),
        )
