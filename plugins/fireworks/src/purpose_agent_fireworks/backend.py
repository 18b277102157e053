"""The Fireworks AI backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

from typing import Any

from purpose_agent.llm.openai_compat import OpenAICompatibleBackend

PREFIX = "accounts/fireworks/models/"


class FireworksBackend(OpenAICompatibleBackend):
    """Fireworks AI's OpenAI-compatible endpoint."""

    provider = "fireworks"
    default_base_url = "https://api.fireworks.ai/inference/v1"
    default_api_key_env = "FIREWORKS_API_KEY"
    default_model_id = PREFIX + "llama-v3p1-8b-instruct"

    def __init__(self, model: str = "", **kwargs: Any) -> None:
        # Short ids are expanded to Fireworks' account path.
        super().__init__(model if (not model or "/" in model) else PREFIX + model, **kwargs)
