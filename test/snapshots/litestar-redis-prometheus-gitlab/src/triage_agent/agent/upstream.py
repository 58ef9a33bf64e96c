"""The shapes an OpenAI-compatible endpoint answers with, as pydantic models.

The endpoint is untrusted: a body or stream chunk that does not fit these
models is an upstream defect (502 ``upstream_error``), never an internal one.
Unknown fields are ignored; only what the client reads is checked.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr


class _Upstream(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PromptTokensDetails(_Upstream):
    cached_tokens: StrictInt = Field(default=0, ge=0)


class UsageBody(_Upstream):
    prompt_tokens: StrictInt = Field(ge=0)
    completion_tokens: StrictInt = Field(default=0, ge=0)
    # Chat Completions: the prompt tokens read from the provider's prompt cache.
    prompt_tokens_details: PromptTokensDetails | None = None

    @property
    def cached_tokens(self) -> int:
        details = self.prompt_tokens_details
        # Never more than the prompt: an endpoint's inconsistent answer is capped.
        return min(details.cached_tokens, self.prompt_tokens) if details is not None else 0


class FunctionBody(_Upstream):
    name: StrictStr
    arguments: StrictStr | None = None


class ToolCallBody(_Upstream):
    id: StrictStr | None = None
    function: FunctionBody


class MessageBody(_Upstream):
    content: StrictStr | None = None
    tool_calls: list[ToolCallBody] | None = None


class ChoiceBody(_Upstream):
    message: MessageBody
    finish_reason: StrictStr | None = None


class CompletionBody(_Upstream):
    """A non-streamed ``/chat/completions`` answer: at least one choice."""

    choices: list[ChoiceBody] = Field(min_length=1)
    usage: UsageBody | None = None


class FunctionDelta(_Upstream):
    name: StrictStr | None = None
    arguments: StrictStr | None = None


class ToolCallDelta(_Upstream):
    index: StrictInt = Field(default=0, ge=0, le=127)
    id: StrictStr | None = None
    function: FunctionDelta | None = None


class Delta(_Upstream):
    content: StrictStr | None = None
    tool_calls: list[ToolCallDelta] | None = None


class StreamChoice(_Upstream):
    delta: Delta | None = None
    finish_reason: StrictStr | None = None


class StreamChunk(_Upstream):
    """One ``data:`` event of a streamed answer (the last may carry only usage)."""

    choices: list[StreamChoice] = Field(default_factory=list)
    usage: UsageBody | None = None
