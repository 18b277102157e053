"""Settings every HTTP provider plugin accepts in its ``[plugins.<id>]`` section.

A provider plugin returns :class:`ProviderSettings` (or a subclass) from its ``settings_model``
hook. Keys are never secrets: the key itself stays in the environment and the section may only
name the variable (``api_key_env``), which is also how the kernel refuses to write secrets.

::

    [plugins.groq]
    default_model = "llama-3.3-70b-versatile"
    timeout = 30
    max_retries = 4
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ProviderSettings(BaseModel):
    """Connection settings of one provider; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(default=None, description="Override the provider's API base URL.")
    api_key_env: str | None = Field(default=None, description="Environment variable holding the API key.")
    default_model: str | None = Field(default=None, description="Model used for 'provider:' with no model.")
    timeout: float = Field(default=60.0, gt=0, description="Seconds to wait for the next bytes of a reply.")
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for a connection.")
    max_connections: int = Field(default=100, ge=1, description="Connections open at once, per event loop; more requests wait.")
    pool_timeout: float = Field(default=30.0, gt=0, description="Seconds a request may wait for a free connection.")
    max_retries: int = Field(default=2, ge=0, description="Extra attempts on 429/5xx/timeouts.")
    retry_base_delay: float = Field(default=0.5, ge=0, description="First backoff step in seconds.")
    retry_max_delay: float = Field(default=8.0, ge=0, description="Largest backoff step in seconds.")
    retry_max_wait: float = Field(default=60.0, ge=0, description="Cap on a server-requested Retry-After.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers on every request.")
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="model -> [USD per 1M prompt tokens, per 1M completion tokens]."
    )


class EmbeddingProviderSettings(ProviderSettings):
    """The provider settings, plus the embedder's, for a provider that also serves embeddings.

    ::

        [plugins.openai]
        embedding_model = "text-embedding-3-small"
        embedding_dimensions = 512     # optional: a shorter vector (text-embedding-3-* only)
    """

    embedding_model: str | None = Field(default=None, description="Model the embedder uses (default: the provider's).")
    embedding_dimensions: int | None = Field(
        default=None, ge=1, description="Ask the server for vectors of this length (models that support it)."
    )
    embedding_batch_size: int = Field(default=64, ge=1, le=2048, description="Texts per embeddings request.")
    embedding_max_chars: int = Field(
        default=8000, ge=1, description="Each text is cut to this many characters before it is sent."
    )
