"""The ``[plugins.agui]`` settings.

Example::

    [plugins.agui]
    host = "127.0.0.1"
    port = 8765
    token_env = "PURPOSE_AGENT_UI_TOKEN"   # required (and set) for any bind that is not loopback
    max_request_bytes = 1000000
    max_task_chars = 50000
    queue_size = 10000                     # events buffered per browser before dropping for it
    trust_clients = false                  # true: clients' tasks run unscreened (the operator vouches)
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AguiSettings(BaseModel):
    """Validated ``[plugins.agui]`` section."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    token_env: str = "PURPOSE_AGENT_UI_TOKEN"
    max_request_bytes: int = Field(default=1_000_000, ge=1024, le=100_000_000)
    max_task_chars: int = Field(default=50_000, ge=1, le=10_000_000)
    queue_size: int = Field(default=10_000, ge=10, le=10_000_000)
    trust_clients: bool = False

    @field_validator("token_env")
    @classmethod
    def _env(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", value):
            raise ValueError(f"{value!r} is not an environment variable name; name the variable that holds the token")
        return value
