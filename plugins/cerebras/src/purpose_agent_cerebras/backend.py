"""The Cerebras backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

from purpose_agent.llm.openai_compat import OpenAICompatibleBackend


class CerebrasBackend(OpenAICompatibleBackend):
    """Cerebras' OpenAI-compatible endpoint."""

    provider = "cerebras"
    default_base_url = "https://api.cerebras.ai/v1"
    default_api_key_env = "CEREBRAS_API_KEY"
    default_model_id = "llama3.1-8b"
    rejected_params = frozenset({"frequency_penalty", "presence_penalty", "parallel_tool_calls"})
