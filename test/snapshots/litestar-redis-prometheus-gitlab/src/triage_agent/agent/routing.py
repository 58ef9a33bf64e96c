"""The cheap-turn routing rule (off unless ``LLM_CHEAP_MODEL`` is set).

Deliberately simple: a turn whose message has at most ``LLM_CHEAP_MAX_CHARS``
characters is sent to the cheap model first; the usual chain (``LLM_MODEL``,
then ``LLM_FALLBACK_MODELS``) stays behind it as its fallback. Every other turn
uses the usual chain. The rule reads the message length only (not the history,
not a request hint), so which model a turn starts at is predictable from the
request alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from .llm import ChatModel


def models_for_turn(
    chain: Sequence[ChatModel], cheap: ChatModel | None, cheap_max_chars: int, message: str
) -> list[ChatModel]:
    if cheap is not None and len(message) <= cheap_max_chars:
        return [cheap, *chain]
    return list(chain)
