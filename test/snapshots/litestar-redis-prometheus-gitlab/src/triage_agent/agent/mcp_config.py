"""``MCP_SERVERS_FILE``: the MCP servers whose tools the agent may call.

The file is JSON (``{"servers": [...]}``, see the README's MCP section). It is
read and validated at start, with the environment variables its headers name;
a problem is one line naming the file, the server and the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# No "_" in a server name, so "<server>__<tool>" splits one way only.
SERVER_NAME_PATTERN = r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,28}[a-zA-Z0-9])?$"
HEADER_NAME_PATTERN = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# The name rule of the OpenAI-compatible providers' tool names.
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
TOOL_SEPARATOR = "__"

Transport = Literal["streamable_http", "stdio"]


class McpConfigError(ValueError):
    """The servers file is unreadable or invalid; the message names where."""


class HeaderFromEnv(BaseModel):
    """A request header whose value is an environment variable (a Secret), never the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str = Field(pattern=ENV_NAME_PATTERN)
    prefix: str = ""


class McpServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=SERVER_NAME_PATTERN)
    transport: Transport
    url: str = ""
    command: str = ""
    args: tuple[str, ...] = ()
    headers: dict[str, HeaderFromEnv] = Field(default_factory=dict)
    # The tools the agent may call; None: every tool the server lists.
    tools: tuple[str, ...] | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    connect_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    max_result_bytes: int = Field(default=16_384, ge=256, le=10_485_760)
    required: bool = False

    @model_validator(mode="after")
    def _transport_fields(self) -> McpServerConfig:
        if self.transport == "streamable_http":
            if not self.url.startswith(("http://", "https://")):
                raise ValueError("url: required for streamable_http, must start with http(s)://")
            if self.command or self.args:
                raise ValueError("command/args: only for the stdio transport")
        else:
            if not self.command:
                raise ValueError("command: required for the stdio transport")
            if self.url or self.headers:
                raise ValueError("url/headers: only for the streamable_http transport")
        for header in self.headers:
            if not re.match(HEADER_NAME_PATTERN, header):
                raise ValueError(f"headers: {header!r} is not a valid header name")
        return self

    def resolve_headers(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The header values from the environment (raises ``KeyError`` naming a missing variable)."""
        resolved: dict[str, str] = {}
        for header, source in self.headers.items():
            value = environ.get(source.env, "")
            if not value:
                raise KeyError(source.env)
            resolved[header] = source.prefix + value
        return resolved


class McpServersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    servers: tuple[McpServerConfig, ...]


def _problem(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    loc = [str(part) for part in first.get("loc", ())]
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{'.'.join(loc)}: {message}" if loc else message


def load_servers(
    path: str, environ: Mapping[str, str], *, production: bool, allow_stdio: bool
) -> tuple[McpServerConfig, ...]:
    """Every server of the file at ``path``, checked; raises ``McpConfigError``."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise McpConfigError(
            f"{path}: cannot be read ({exc.strerror or type(exc).__name__})"
        ) from None
    except ValueError as exc:
        raise McpConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("servers"), list):
        raise McpConfigError(f'{path}: must be an object {{"servers": [...]}}')
    servers: list[McpServerConfig] = []
    for index, entry in enumerate(raw["servers"]):
        label = entry.get("name") if isinstance(entry, dict) else None
        where = (
            f"{path}: server {label!r}" if isinstance(label, str) else f"{path}: servers[{index}]"
        )
        try:
            server = McpServerConfig.model_validate(entry)
        except ValidationError as exc:
            raise McpConfigError(f"{where}: {_problem(exc)}") from None
        if any(seen.name == server.name for seen in servers):
            raise McpConfigError(f"{where}: the name is used twice")
        if server.transport == "stdio" and production and not allow_stdio:
            raise McpConfigError(
                f"{where}: stdio servers are refused when ENVIRONMENT=production"
                " (set MCP_ALLOW_STDIO=true to allow them)"
            )
        try:
            server.resolve_headers(environ)
        except KeyError as exc:
            raise McpConfigError(
                f"{where}: header value variable {exc.args[0]} is not set"
            ) from None
        servers.append(server)
    extra = set(raw) - {"servers"}
    if extra:
        raise McpConfigError(f"{path}: unknown key {sorted(extra)[0]!r}")
    return tuple(servers)


def exposed_name(server: str, tool: str) -> str | None:
    """``<server>__<tool>``, or None when that is not a valid provider tool name."""
    name = f"{server}{TOOL_SEPARATOR}{tool}"
    return name if TOOL_NAME.match(name) else None
