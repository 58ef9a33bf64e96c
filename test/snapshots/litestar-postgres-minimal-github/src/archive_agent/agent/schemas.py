"""The agent turn's request and response bodies (the JSON of /v1/chat)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

_SURROGATE = re.compile("[\ud800-\udfff]")

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]


class ChatRequest(BaseModel):
    """One agent turn. ``message`` is further bounded by ``MAX_MESSAGE_CHARS``."""

    model_config = ConfigDict(extra="ignore")

    message: Annotated[str, Field(min_length=1, description="the user's message")]
    session_id: Identifier | None = Field(default=None, description="continue this session")
    user_id: Identifier | None = Field(default=None, description="the end user, for your records")

    @field_validator("message")
    @classmethod
    def _text_only(cls, value: str) -> str:
        # NUL and lone surrogates are not text: stores such as Postgres refuse the
        # first and no encoder takes the second; the same answer everywhere.
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if _SURROGATE.search(value):
            raise ValueError("must be valid Unicode (no lone surrogates)")
        return value


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = Field(
        default=0, description="of input_tokens, those the provider read from its prompt cache"
    )
    cost_usd: float | None = Field(
        default=None, description="US dollars, when LLM_PRICES prices every model of the turn"
    )


class ToolCallInfo(BaseModel):
    name: str
    status: Literal["ok", "error"]


class ChatResponse(BaseModel):
    answer: str
    session_id: str
    trace_id: str
    usage: Usage
    tool_calls: list[ToolCallInfo]
    # The model that gave the answer: LLM_MODEL, or a fallback (LLM_FALLBACK_MODELS).
    model: str = ""
    latency_ms: float
