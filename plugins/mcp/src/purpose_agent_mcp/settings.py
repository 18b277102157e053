"""The ``[plugins.mcp]`` settings: the MCP servers whose tools the agent may use.

Example::

    [plugins.mcp]
    startup_timeout_s = 20      # a server must finish the MCP handshake within this
    call_timeout_s = 60         # one tool call
    max_output_chars = 20000    # a tool's text beyond this is cut (and says so)

    [plugins.mcp.servers.time]  # a stdio server: a command the client starts
    command = "mcp-server-time"
    args = ["--local-timezone", "UTC"]

    [plugins.mcp.servers.git]
    command = "mcp-server-git"
    args = ["--repository", "."]
    env = { GIT_AUTHOR_NAME = "agent", GITHUB_TOKEN_env = "MY_GH_TOKEN" }

    [plugins.mcp.servers.docs]  # a streamable HTTP server
    url = "https://mcp.example.com/mcp"
    headers = { X-Team = "blue" }
    bearer_token_env = "DOCS_MCP_TOKEN"

Secrets never go in the file: a key ending in ``_env`` (in ``env``, in ``headers``, and
``bearer_token_env``) names an environment variable whose value is used instead.
"""

from __future__ import annotations

import os
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: What a server name may look like: it prefixes its tools' names (``time__get_current_time``).
SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class ServerConfig(BaseModel):
    """One MCP server: a stdio ``command`` or a streamable HTTP ``url``."""

    model_config = ConfigDict(extra="forbid")

    command: str | None = Field(default=None, description="The program that runs the server over stdio.")
    args: list[str] = Field(default_factory=list, description="Its arguments.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment; KEY_env = VAR takes $VAR.")
    cwd: str | None = Field(default=None, description="Its working directory (default: the current one).")
    url: str | None = Field(default=None, description="A streamable HTTP endpoint, e.g. http://127.0.0.1:8000/mcp.")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP headers; Name_env = VAR takes $VAR.")
    bearer_token_env: str | None = Field(default=None, description="Send Authorization: Bearer $VAR.")
    startup_timeout_s: float | None = Field(default=None, gt=0, description="Overrides [plugins.mcp] startup_timeout_s.")
    call_timeout_s: float | None = Field(default=None, gt=0, description="Overrides [plugins.mcp] call_timeout_s.")

    @model_validator(mode="after")
    def _one_transport(self) -> ServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of 'command' (a stdio server) or 'url' (a streamable HTTP server)")
        if self.url is not None and not re.match(r"^https?://", self.url):
            raise ValueError(f"url must start with http:// or https://, got {self.url!r}")
        if self.command is not None and (self.headers or self.bearer_token_env):
            raise ValueError("'headers' and 'bearer_token_env' are for 'url' servers; a stdio server takes 'env'")
        return self

    def resolved_env(self) -> dict[str, str]:
        """``env`` with every ``KEY_env = VAR`` replaced by ``KEY = $VAR``; raises ``LookupError``."""
        return _resolve(self.env, "env")

    def resolved_headers(self) -> dict[str, str]:
        """``headers`` (and the bearer token) with variables read; raises ``LookupError``."""
        headers = _resolve(self.headers, "headers")
        if self.bearer_token_env:
            headers["Authorization"] = "Bearer " + _lookup(self.bearer_token_env, "bearer_token_env")
        return headers


def _lookup(variable: str, key: str) -> str:
    value = os.environ.get(variable)
    if value is None:
        raise LookupError(f"the environment variable {variable} (named by '{key}') is not set")
    return value


def _resolve(table: dict[str, str], what: str) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for key, value in table.items():
        if key.endswith("_env"):
            resolved[key[: -len("_env")]] = _lookup(value, f"{what}.{key}")
        else:
            resolved[key] = value
    return resolved


class McpSettings(BaseModel):
    """``[plugins.mcp]``."""

    model_config = ConfigDict(extra="forbid")

    servers: dict[str, ServerConfig] = Field(default_factory=dict, description="The MCP servers, by name.")
    startup_timeout_s: float = Field(default=20.0, gt=0, description="Time for a server to start and shake hands.")
    call_timeout_s: float = Field(default=60.0, gt=0, description="Time for one tool call.")
    max_output_chars: int = Field(default=20_000, gt=0, description="A tool's text is cut beyond this.")

    @field_validator("servers")
    @classmethod
    def _names(cls, servers: dict[str, ServerConfig]) -> dict[str, ServerConfig]:
        for name in servers:
            if not SERVER_NAME.match(name):
                raise ValueError(f"server name {name!r} must be 1-40 letters, digits, '_' or '-' (it prefixes tool names)")
        return servers
