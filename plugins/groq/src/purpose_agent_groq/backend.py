"""The Groq backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

from typing import Any

from purpose_agent.errors import BadRequestError
from purpose_agent_http import OpenAICompatibleBackend


class GroqBackend(OpenAICompatibleBackend):
    """Groq's OpenAI-compatible endpoint."""

    provider = "groq"
    default_base_url = "https://api.groq.com/openai/v1"
    default_api_key_env = "GROQ_API_KEY"
    default_model_id = "llama-3.1-8b-instant"
    #: Place in the default chain when its key is set (see HTTPBackend.default_priority).
    default_priority = 370
    #: Published list prices when written (USD per 1M prompt, completion tokens); for budgeting, not invoicing.
    list_prices = {
        "llama-3.1-8b-instant": (0.05, 0.08),
        "llama-3.3-70b-versatile": (0.59, 0.79),
    }
    reasoning_fields = ("reasoning", "reasoning_content")
    rejected_params = frozenset({"logprobs", "top_logprobs", "logit_bias"})

    def filter_params(self, body: dict[str, Any]) -> dict[str, Any]:
        n = body.get("n")
        if n not in (None, 1):
            raise BadRequestError(
                f"groq serves one choice per request; n={n} is not supported. Send {n} requests instead.",
                provider=self.provider,
            )
        return super().filter_params({k: v for k, v in body.items() if k != "n"})

    def rewrite_messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Groq rejects the optional 'name' field on messages.
        return [{k: v for k, v in m.items() if k != "name"} for m in messages]
