"""The Hugging Face router backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

from purpose_agent.llm.openai_compat import OpenAICompatibleBackend


class HFBackend(OpenAICompatibleBackend):
    """The Hugging Face inference router (OpenAI-compatible)."""

    provider = "hf"
    default_base_url = "https://router.huggingface.co/v1"
    default_api_key_env = "HF_TOKEN"
    default_model_id = "meta-llama/Llama-3.1-8B-Instruct"
