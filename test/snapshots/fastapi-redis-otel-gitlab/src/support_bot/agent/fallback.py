"""Fallback models: when a model endpoint fails, the turn asks the next one.

``LLM_FALLBACK_MODELS`` lists models tried in order after the primary
(``LLM_MODEL``). A model is left for the next when its call failed after its
own retries with ``ModelUnavailable`` (5xx, 429, unreachable, a ``Retry-After``
longer than the turn has left) or ``UpstreamTimeout`` (``LLM_TIMEOUT``). A 4xx
or a malformed answer is not a reason to fall back: the next endpoint would
most likely refuse the same request, or the answer is the defect to see.

Within one turn the chain is sticky: once a model failed, the turn's later
steps start at the model that answered. A streamed turn falls back only while
no ``token`` event has been sent: text already on the wire cannot be taken
back, so after that the failure is the stream's ``error`` event.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from ..web.errors import AgentError, UpstreamTimeout
from .llm import ChatModel, Completion, ModelUnavailable

logger = logging.getLogger(__name__)

FALLBACK_ERRORS: tuple[type[AgentError], ...] = (ModelUnavailable, UpstreamTimeout)


async def call_with_fallback(
    models: Sequence[ChatModel],
    first: int,
    call: Callable[[ChatModel], Awaitable[Completion]],
    *,
    may_fall_back: Callable[[], bool] = lambda: True,
) -> tuple[int, Completion]:
    """``call`` on ``models[first]``, then on each next model while it fails
    with a fallback error; the index of the model that answered, and its answer."""
    index = first
    while True:
        model = models[index]
        try:
            return index, await call(model)
        except FALLBACK_ERRORS as exc:
            if index + 1 >= len(models) or not may_fall_back():
                raise
            logger.warning(
                "model failed, trying the fallback model",
                extra={
                    "model": model.name,
                    "fallback_model": models[index + 1].name,
                    "error_type": type(exc).__name__,
                    "reason": exc.message,
                },
            )
            index += 1
