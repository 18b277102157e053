"""The ``[plugins.a2a]`` settings: remote agents to delegate to, and how this agent is served.

Example::

    [plugins.a2a.agents.researcher]          # becomes the tool "researcher"
    url = "http://127.0.0.1:9100"            # the peer's base URL (its card is at /.well-known/agent-card.json)
    token_env = "RESEARCHER_A2A_TOKEN"       # optional: bearer token read from this variable
    timeout_s = 60                           # per attempt
    retries = 1                              # extra attempts after a transport failure
    failure_threshold = 3                    # consecutive failures that open the circuit
    reset_after_s = 30                       # open circuit: wait this long, then let one probe through

    [plugins.a2a.server]                     # purpose-agent a2a serve
    host = "127.0.0.1"
    port = 9100
    token_env = "PURPOSE_AGENT_A2A_TOKEN"    # required (and set) for any bind that is not loopback
    max_request_bytes = 1000000
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: A remote agent's name becomes a tool name, so it follows the plugin-id rule.
AGENT_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
#: An environment variable name (secrets are never written into TOML, only the variable's name).
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_env_name(value: str | None) -> str | None:
    """``value`` if it is a valid environment-variable name (or ``None``); else a clear error."""
    if value is not None and not ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not an environment variable name; name the variable that holds the token")
    return value


class RemoteAgentSettings(BaseModel):
    """One ``[plugins.a2a.agents.NAME]`` table: a peer this agent may delegate to."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    url: str = Field(description="The peer's base URL; only this origin is ever contacted.")
    description: str = Field(default="", description="What the peer is good at (shown to the model).")
    token_env: str | None = Field(default=None, description="Environment variable holding a bearer token.")
    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    retries: int = Field(default=1, ge=0, le=10)
    failure_threshold: int = Field(default=3, ge=1, le=1000)
    reset_after_s: float = Field(default=30.0, gt=0, le=86400)
    max_reply_chars: int = Field(default=20_000, ge=100, le=10_000_000)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL with a host, e.g. 'http://127.0.0.1:9100'")
        return value.rstrip("/")

    @field_validator("token_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        return check_env_name(value)


class ServerSettings(BaseModel):
    """``[plugins.a2a.server]``: how ``purpose-agent a2a serve`` publishes this agent."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    host: str = "127.0.0.1"
    port: int = Field(default=9100, ge=0, le=65535)
    token_env: str = Field(default="PURPOSE_AGENT_A2A_TOKEN", description="Variable holding the bearer token.")
    max_request_bytes: int = Field(default=1_000_000, ge=1024, le=100_000_000)
    max_task_chars: int = Field(default=50_000, ge=1, le=10_000_000)
    public_url: str | None = Field(default=None, description="The URL put in the card (default: http://HOST:PORT).")
    trust_clients: bool = Field(default=False, description="Run clients' tasks unscreened (the operator vouches "
                                "for every client); by default each task is screened by the immune scanners first.")

    @field_validator("token_env")
    @classmethod
    def _env(cls, value: str) -> str:
        check_env_name(value)
        return value


class A2ASettings(BaseModel):
    """Validated ``[plugins.a2a]`` section."""

    model_config = ConfigDict(extra="forbid")

    agents: dict[str, RemoteAgentSettings] = Field(default_factory=dict)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @field_validator("agents")
    @classmethod
    def _names(cls, value: dict[str, RemoteAgentSettings]) -> dict[str, RemoteAgentSettings]:
        for name in value:
            if not AGENT_NAME.match(name):
                raise ValueError(
                    f"agent name {name!r} cannot be a tool name: use lower-case letters, digits, '-' and '_', "
                    "starting with a letter"
                )
        return value
