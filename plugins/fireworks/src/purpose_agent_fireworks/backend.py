"""The Fireworks AI backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

from typing import Any

from purpose_agent_http import OpenAICompatibleBackend

PREFIX = "accounts/fireworks/models/"


class FireworksBackend(OpenAICompatibleBackend):
    """Fireworks AI's OpenAI-compatible endpoint."""

    provider = "fireworks"
    default_base_url = "https://api.fireworks.ai/inference/v1"
    default_api_key_env = "FIREWORKS_API_KEY"
    default_model_id = PREFIX + "llama-v3p1-8b-instruct"
    #: Place in the default chain when its key is set (see HTTPBackend.default_priority).
    default_priority = 320

    def __init__(self, model: str = "", **kwargs: Any) -> None:
        # Short ids are expanded to Fireworks' account path.
        super().__init__(model if (not model or "/" in model) else PREFIX + model, **kwargs)
