"""Token-aware context trimming: what of a turn's messages is sent to the model.

``AGENT_MAX_INPUT_TOKENS`` bounds the input of each model call, counted with
the estimate in ``llm.estimate_prompt_tokens`` (about four characters per
token plus four per message, and the tool list's JSON the same way): the
provider's tokenizer is not known here, and for English text and JSON that
estimate is within about a quarter of the real count, so keep the bound a
quarter below the model's context window.

Over the bound, the oldest whole turns of the history go first (a turn: a
user message and everything up to the next one, so a tool call always leaves
with its results). Then, within the current turn, the oldest tool exchanges
(an assistant message with tool calls and their results) go. Never dropped:
the system prompt, the current user message and the newest tool exchange; a
turn that is over the bound with only those is sent as it is (the endpoint
then decides). Tool results whose call is not in the history (the store
trimmed it away) are never sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .llm import Message, estimate_prompt_tokens, estimate_tokens


@dataclass(frozen=True)
class Window:
    messages: list[Message]
    estimated_tokens: int
    dropped_messages: int


def estimate_tools_tokens(tools: list[dict[str, Any]]) -> int:
    return estimate_tokens(json.dumps(tools, separators=(",", ":"))) if tools else 0


def _groups(messages: list[Message]) -> list[list[Message]]:
    """Messages in groups that are kept or dropped whole: a tool result joins
    the group of the assistant message that called it; results with no call
    before them in the list are left out."""
    groups: list[list[Message]] = []
    calls: set[str] = set()
    for message in messages:
        if message.get("role") == "tool":
            if groups and message.get("tool_call_id") in calls:
                groups[-1].append(message)
            continue
        calls = {call.get("id") for call in message.get("tool_calls") or []}
        groups.append([message])
    return groups


def _pairs_complete(group: list[Message]) -> bool:
    """Every tool call of the group's assistant message has its result."""
    wanted = {call.get("id") for call in group[0].get("tool_calls") or []}
    answered = {message.get("tool_call_id") for message in group[1:]}
    return wanted <= answered


def fit(
    messages: list[Message],
    tools: list[dict[str, Any]],
    max_input_tokens: int,
    current_user_index: int,
    tools_tokens: int | None = None,
) -> Window:
    """The messages to send: ``messages[0]`` is the system prompt and
    ``messages[current_user_index]`` the current user message. ``tools_tokens``
    is ``estimate_tools_tokens(tools)`` when the caller has it already."""
    system, history = messages[:1], messages[1:current_user_index]
    current = messages[current_user_index:]
    # Whole turns of the history, each starting at a user message.
    turns: list[list[Message]] = []
    for group in _groups(history):
        if group[0].get("role") == "user" or not turns:
            turns.append([])
        if group[0].get("tool_calls") and not _pairs_complete(group):
            continue  # a call without all its results is never sent
        turns[-1].extend(group)
    turns = [turn for turn in turns if turn]
    exchanges = _groups(current)  # [user message, exchange, exchange, ...]
    if tools_tokens is None:
        tools_tokens = estimate_tools_tokens(tools)
    fixed = estimate_prompt_tokens(system) + tools_tokens
    kept_turns = [estimate_prompt_tokens(turn) for turn in turns]
    kept_exchanges = [estimate_prompt_tokens(group) for group in exchanges]
    total = fixed + sum(kept_turns) + sum(kept_exchanges)
    first_turn = 0
    first_exchange = 1
    if max_input_tokens > 0:
        while total > max_input_tokens and first_turn < len(turns):
            total -= kept_turns[first_turn]
            first_turn += 1
        while total > max_input_tokens and first_exchange < len(exchanges) - 1:
            total -= kept_exchanges[first_exchange]
            first_exchange += 1
    sent = [
        *system,
        *(message for turn in turns[first_turn:] for message in turn),
        *exchanges[0],
        *(message for group in exchanges[first_exchange:] for message in group),
    ]
    return Window(messages=sent, estimated_tokens=total, dropped_messages=len(messages) - len(sent))
