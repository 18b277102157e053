"""The OpenAI backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

from typing import Any

from purpose_agent.llm.openai_compat import OpenAICompatibleBackend


class OpenAIBackend(OpenAICompatibleBackend):
    """OpenAI's own API."""

    provider = "openai"
    default_base_url = "https://api.openai.com/v1"
    default_api_key_env = "OPENAI_API_KEY"
    default_model_id = "gpt-4o-mini"

    def filter_params(self, body: dict[str, Any]) -> dict[str, Any]:
        # o-series and newer models refuse max_tokens; max_completion_tokens works on all.
        if "max_tokens" in body:
            body = {**body, "max_completion_tokens": body["max_tokens"]}
            del body["max_tokens"]
        return super().filter_params(body)
