"""A small tool registry and two safe example tools.

A tool is a typed Python function: its parameters' JSON Schema (what the model
is told) and the validation of the model's arguments both come from its
signature, through a pydantic model (``arguments_model()``); describe a
parameter with ``Annotated[str, Field(description=...)]``.

``calculator`` evaluates arithmetic by walking the AST with a strict node
whitelist and size bounds (never ``eval``); ``current_time`` returns UTC now.
"""

from __future__ import annotations

import ast
import inspect
import json
import logging
import math
import operator
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .context_window import estimate_tools_tokens

logger = logging.getLogger(__name__)

ToolFunc = Callable[..., str | Awaitable[str]]
ToolStatus = Literal["ok", "error"]

MAX_EXPRESSION_CHARS = 200
MAX_NODES = 64
MAX_EXPONENT = 100
MAX_MAGNITUDE = 10**100


class ToolError(Exception):
    """A tool failed in a way the model may be told about."""


def arguments_model(name: str, func: ToolFunc) -> type[BaseModel]:
    """A pydantic model of ``func``'s keyword parameters (unknown arguments refused)."""
    hints = get_type_hints(func, include_extras=True)
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(func).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"tool {name!r}: *args and **kwargs cannot be described to a model")
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (hints.get(parameter.name, Any), default)
    return create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)


def json_object_arguments(arguments: str) -> dict[str, Any]:
    """The model's arguments as a JSON object; else ``ToolError`` saying what is wrong."""
    try:
        args = json.loads(arguments or "{}")
    except ValueError:
        raise ToolError("arguments are not valid JSON") from None
    if not isinstance(args, dict):
        raise ToolError("arguments must be a JSON object")
    return args


def describe_validation_error(error: ValidationError) -> str:
    """Each problem as ``field: reason`` (never the offending value)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'arguments'}: {item['msg']}"
        for item in error.errors(include_url=False)
    )


def function_schema(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A tool as the chat completions API lists it (local and MCP tools alike)."""
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


@dataclass(frozen=True)
class Tool:
    """A function the model may call; its parameters come from its signature."""

    name: str
    description: str
    func: ToolFunc
    # Derived from ``func`` once: the validating model and its JSON Schema (what the model is told).
    arguments: type[BaseModel] = field(init=False, repr=False, compare=False)
    parameters: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        arguments = arguments_model(self.name, self.func)
        object.__setattr__(self, "arguments", arguments)
        object.__setattr__(self, "parameters", arguments.model_json_schema())

    def parse_arguments(self, arguments: str) -> dict[str, Any]:
        """The model's JSON arguments, validated; else ``ToolError`` saying what is wrong."""
        args = json_object_arguments(arguments)
        try:
            return dict(self.arguments.model_validate(args))
        except ValidationError as exc:
            raise ToolError(
                f"arguments do not match the tool's parameters: {describe_validation_error(exc)}"
            ) from None

    def schema(self) -> dict[str, Any]:
        return function_schema(self.name, self.description, self.parameters)


@dataclass(frozen=True)
class RemoteTool:
    """A tool another process runs (an MCP server's, ``agent/mcp_tools.py``).

    Its JSON Schema is the one the server gives; the arguments go to the server
    as the model wrote them (a JSON object), and the server validates them.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    func: Callable[..., Awaitable[str]]
    server: str

    def parse_arguments(self, arguments: str) -> dict[str, Any]:
        # The server checks them against its own schema.
        return json_object_arguments(arguments)

    def schema(self) -> dict[str, Any]:
        return function_schema(self.name, self.description, self.parameters)


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, Tool | RemoteTool] = {}
        # The schemas and their token estimate, built once per set of tools:
        # every turn sends them, and estimating means serialising them.
        self._schemas: tuple[list[dict[str, Any]], int] | None = None

    def register(self, tool: Tool | RemoteTool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"tool {tool.name!r} is already registered")
        self._tools[tool.name] = tool
        self._schemas = None

    def unregister(self, name: str) -> None:
        self._tools.pop(name, None)
        self._schemas = None

    def server_of(self, name: str) -> str | None:
        """The MCP server a tool comes from; None for a built-in (or unknown) tool."""
        tool = self._tools.get(name)
        return tool.server if isinstance(tool, RemoteTool) else None

    def names(self) -> list[str]:
        return sorted(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        return list(self._built()[0])

    def schemas_tokens(self) -> int:
        """The estimated prompt tokens of ``schemas()``."""
        return self._built()[1]

    def _built(self) -> tuple[list[dict[str, Any]], int]:
        if self._schemas is None:
            schemas = [self._tools[name].schema() for name in self.names()]
            self._schemas = (schemas, estimate_tools_tokens(schemas))
        return self._schemas

    async def call(self, name: str, arguments: str) -> tuple[ToolStatus, str]:
        """Run a tool; failures become ``("error", reason)`` for the model, never exceptions."""
        tool = self._tools.get(name)
        if tool is None:
            return "error", f"unknown tool {name!r}"
        try:
            result = tool.func(**tool.parse_arguments(arguments))
            if inspect.isawaitable(result):
                result = await result
        except ToolError as exc:
            return "error", str(exc)
        except Exception as exc:
            # A bug in the tool: the model is told it failed and why; the log keeps the traceback.
            logger.exception("tool failed", extra={"tool": name, "error_type": type(exc).__name__})
            return "error", f"the tool failed: {type(exc).__name__}: {exc}"
        return "ok", str(result)


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def _check(value: float) -> float:
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError("result is not a finite number")
    if abs(value) > MAX_MAGNITUDE:
        raise ToolError("result is too large")
    return value


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _check(cast(float, node.value))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _check(_UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ToolError(f"exponent is larger than {MAX_EXPONENT}")
        try:
            return _check(_BINARY[type(node.op)](left, right))
        except ZeroDivisionError as exc:
            raise ToolError("division by zero") from exc
        except OverflowError as exc:
            raise ToolError("result is too large") from exc
    raise ToolError(f"unsupported expression element: {type(node).__name__}")


def format_number(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def calculate(expression: Annotated[str, Field(description="the expression")]) -> str:
    """Evaluate ``+ - * / // % **`` (``^`` means power) over numbers and parentheses."""
    if not isinstance(expression, str) or not expression.strip():
        raise ToolError("expression must be a non-empty string")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise ToolError("not an arithmetic expression") from exc
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ToolError("expression is too complex")
    return format_number(_eval(tree))


def current_time() -> str:
    """The current time in UTC, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


CALCULATOR = Tool(
    name="calculator",
    description="Evaluate an arithmetic expression, e.g. '(6 * 7) / 2'. Supports + - * / // % ** and parentheses.",
    func=calculate,
)

CURRENT_TIME = Tool(
    name="current_time",
    description="The current date and time in UTC (ISO 8601).",
    func=current_time,
)


def default_registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(CALCULATOR)
    registry.register(CURRENT_TIME)
    return registry
