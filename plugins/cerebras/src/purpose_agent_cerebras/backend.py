"""The Cerebras backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

from purpose_agent_http import OpenAICompatibleBackend


class CerebrasBackend(OpenAICompatibleBackend):
    """Cerebras' OpenAI-compatible endpoint."""

    provider = "cerebras"
    default_base_url = "https://api.cerebras.ai/v1"
    default_api_key_env = "CEREBRAS_API_KEY"
    default_model_id = "llama3.1-8b"
    #: Place in the default chain when its key is set (see HTTPBackend.default_priority).
    default_priority = 310
    #: Published list prices when written (USD per 1M prompt, completion tokens); for budgeting, not invoicing.
    list_prices = {
        "llama3.1-8b": (0.10, 0.10),
    }
    rejected_params = frozenset({"frequency_penalty", "presence_penalty", "parallel_tool_calls"})
