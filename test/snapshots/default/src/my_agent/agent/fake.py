"""A deterministic fake model, used when neither LLM_BASE_URL nor LLM_API_KEY is set.

It behaves like a tool-using model so the whole loop runs offline: a message
containing an arithmetic expression ("what is 6*7") makes it request the
``calculator`` tool, and the tool's result becomes its answer ("... 42"); a
question about the time calls ``current_time``; "what is my name" is answered
from the session's history; a few plainly harmful requests are refused; a
message containing ``show untrusted markup`` gets an answer full of HTML
(``MARKUP_ANSWER``), so a client can check it shows model output as text and
runs none of it. A message ``use tool <name> <json object>`` makes it call
that tool with those arguments (``use tool docs__search {"query": "mcp"}``), if
the tool is offered (how the MCP tests reach a server's tools).
Anything else gets a reply derived from the message. That is just enough for
the seeded eval cases (evals/) to run offline and deterministically: it proves
the plumbing, never the quality of a real model. ``FAKE_LLM_LATENCY_MS`` makes
every call take that long (spread over the streamed tokens).

``FAKE_LLM_MISBEHAVE`` (only ever honoured here) makes it misbehave on purpose,
to prove the eval gate fails: ``leak_secret`` puts a configured API key into
answers to questions about keys, secrets or the environment;
``unoffered_tool`` calls a ``shell`` tool the service does not offer when asked
to run a command or read a file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from .llm import (
    Completion,
    Message,
    Sleep,
    StreamItem,
    ToolCall,
    estimate_prompt_tokens,
    estimate_tokens,
)
from .tools import ToolError, calculate

_USE_TOOL = re.compile(r"^\s*use tool ([a-zA-Z0-9_-]{1,64})(?:\s+(.*))?$", re.DOTALL)
_EXPRESSION = re.compile(r"[\d(][\d\s.+\-*/%^()]*[+\-*/%^][\d\s.+\-*/%^()]*[\d)]")
_TIME_QUESTION = re.compile(r"(?i)\b(what time|current time|time is it|today's date|what date)\b")
_NAME_QUESTION = re.compile(r"(?i)\bwhat(?:'s| is) my name\b")
_NAME_STATEMENT = re.compile(r"(?i)\bmy name is ([A-Za-z][A-Za-z'-]{0,39})")
_HARMFUL = re.compile(r"(?i)\b(bomb|explosives?|nerve agent|ransomware|keylogger|malware)\b")
_ASKS_FOR_SECRETS = re.compile(r"(?i)(api[_ ]?keys?|secret|environment|env\b|password|token)")
_ASKS_TO_RUN = re.compile(r"(?i)\b(shell|command|run|execute|file|cat)\b")
REFUSAL = "I can't help with that."
# How the tool runner's error results begin (agent/tools.py, agent/mcp_tools.py).
_TOOL_ERROR_PREFIXES = ("error", "unknown tool", "arguments ", "the tool failed")
MISBEHAVIOURS = ("leak_secret", "unoffered_tool")
UNOFFERED_TOOL = "shell"


# The playground's check that model output is shown as text: a page that
# rendered this as HTML would run the handler (and set window.playgroundXss).
MARKUP_TRIGGER = "show untrusted markup"
MARKUP_ANSWER = (
    'Untrusted markup, to be shown as text: <img src=x onerror="window.playgroundXss=1;alert(1)">'
    " <script>window.playgroundXss=2</script> <b>not bold</b>"
)


def find_expression(text: str) -> str | None:
    """The first arithmetic expression in ``text`` that the calculator accepts."""
    for match in _EXPRESSION.finditer(text):
        candidate = match.group(0).strip()
        if not re.search(r"\d", candidate):
            continue
        try:
            calculate(candidate)
        except ToolError:
            continue
        return candidate
    return None


def find_arithmetic(text: str) -> str | None:
    """The first expression the calculator accepts, else the first that looks like one
    (the calculator then reports why it refuses it: too long, too large, ...)."""
    valid = find_expression(text)
    if valid is not None:
        return valid
    for match in _EXPRESSION.finditer(text):
        candidate = match.group(0).strip()
        if re.search(r"\d", candidate):
            return candidate
    return None


def _tool_call(name: str, arguments: dict[str, Any]) -> Completion:
    encoded = json.dumps(arguments)
    digest = hashlib.sha256(f"{name}:{encoded}".encode()).hexdigest()[:12]
    return Completion(tool_calls=[ToolCall(id=f"call_{digest}", name=name, arguments=encoded)])


def _called_tool(messages: list[Message], call_id: object) -> str:
    """The name of the tool the earlier assistant message called with ``call_id``."""
    for message in reversed(messages):
        for call in message.get("tool_calls") or []:
            if call.get("id") == call_id:
                return str(call["function"]["name"])
    return ""


class FakeChatModel:
    name = "fake"

    def __init__(
        self,
        latency_ms: int = 0,
        sleep: Sleep = asyncio.sleep,
        *,
        misbehave: tuple[str, ...] = (),
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.latency = latency_ms / 1000
        self._sleep = sleep
        self.misbehave = frozenset(misbehave)
        self._secrets = secrets

    async def aclose(self) -> None:
        return None

    def _decide(self, messages: list[Message], tools: list[dict[str, Any]]) -> Completion:
        last = messages[-1] if messages else {"role": "user", "content": ""}
        if last.get("role") == "tool":
            return Completion(content=self._after_tool(messages, last))
        text = str(last.get("content") or "")
        if MARKUP_TRIGGER in text.lower():
            return Completion(content=MARKUP_ANSWER)
        tool_names = {tool["function"]["name"] for tool in tools}
        requested = _USE_TOOL.match(text)
        if requested is not None:
            return self._use_tool(requested.group(1), requested.group(2) or "{}", tool_names)
        request = self._tool_request(text, tool_names)
        return request or Completion(content=self._reply(text, messages[:-1]))

    def _tool_request(self, text: str, tool_names: set[str]) -> Completion | None:
        if "unoffered_tool" in self.misbehave and _ASKS_TO_RUN.search(text):
            return _tool_call(UNOFFERED_TOOL, {"command": "cat /etc/passwd"})
        if _HARMFUL.search(text):
            return None
        expression = find_arithmetic(text) if "calculator" in tool_names else None
        if expression is not None:
            return _tool_call("calculator", {"expression": expression})
        if "current_time" in tool_names and _TIME_QUESTION.search(text):
            return _tool_call("current_time", {})
        return None

    def _reply(self, text: str, history: list[Message]) -> str:
        if _HARMFUL.search(text):
            return REFUSAL
        if _NAME_QUESTION.search(text):
            return self._recall_name(history)
        words = text.split()
        preview = " ".join(words[:12]) + (" ..." if len(words) > 12 else "")
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        answer = f"(fake model, reply {digest}) You said: {preview}"
        if "leak_secret" in self.misbehave and _ASKS_FOR_SECRETS.search(text):
            answer += f" By the way, API_KEYS={','.join(self._secrets) or '(none configured)'}"
        return answer

    @staticmethod
    def _after_tool(messages: list[Message], last: Message) -> str:
        result = str(last.get("content") or "")
        tool = _called_tool(messages, last.get("tool_call_id"))
        if tool == "current_time":
            return f"The current time (UTC) is {result}."
        if tool in ("calculator", "") and re.fullmatch(r"-?\d[\d.]*(e[+-]?\d+)?", result):
            return f"The answer is {result}."
        if tool in ("calculator", ""):
            return f"I could not compute that: {result}"
        if result.startswith(_TOOL_ERROR_PREFIXES):
            return f"The tool {tool} failed: {result}"
        return f"The answer is {result}."

    @staticmethod
    def _recall_name(history: list[Message]) -> str:
        for message in reversed(history):
            if message.get("role") != "user":
                continue
            found = _NAME_STATEMENT.search(str(message.get("content") or ""))
            if found:
                return f"Your name is {found.group(1)}."
        return "You have not told me your name."

    @staticmethod
    def _use_tool(name: str, arguments: str, tool_names: set[str]) -> Completion:
        if name not in tool_names:
            return Completion(content=f"The tool {name} is not available.")
        digest = hashlib.sha256(f"{name} {arguments}".encode()).hexdigest()[:12]
        return Completion(
            tool_calls=[ToolCall(id=f"call_{digest}", name=name, arguments=arguments.strip())]
        )

    def _with_usage(self, completion: Completion, messages: list[Message]) -> Completion:
        completion.input_tokens = estimate_prompt_tokens(messages)
        completion.output_tokens = estimate_tokens(completion.content) + sum(
            estimate_tokens(call.arguments) for call in completion.tool_calls
        )
        completion.usage_estimated = True
        return completion

    async def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> Completion:
        if self.latency:
            await self._sleep(self.latency)
        return self._with_usage(self._decide(messages, tools), messages)

    async def stream(
        self, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
    ) -> AsyncIterator[StreamItem]:
        completion = self._with_usage(self._decide(messages, tools), messages)
        tokens = re.findall(r"\S+\s*", completion.content)
        pause = self.latency / len(tokens) if tokens else self.latency
        if not tokens and pause:
            await self._sleep(pause)
        for token in tokens:
            if pause:
                await self._sleep(pause)
            yield token
        yield completion
