"""``[plugins.openai]`` settings: the common provider and embedding settings plus the wire dialect of ``base_url``."""

from __future__ import annotations

from pydantic import Field

from purpose_agent_http import EmbeddingProviderSettings


class OpenAISettings(EmbeddingProviderSettings):
    """The common provider and embedding settings, plus which dialect ``base_url`` speaks."""

    openai_wire: bool | None = Field(
        default=None,
        description="OpenAI's own wire rules (max_completion_tokens; content null beside tool_calls). "
        "Unset: only when base_url is api.openai.com or *.openai.azure.com.",
    )
