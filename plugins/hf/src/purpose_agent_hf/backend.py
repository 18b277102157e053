"""The Hugging Face router backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

from purpose_agent_http import OpenAICompatibleBackend


class HFBackend(OpenAICompatibleBackend):
    """The Hugging Face inference router (OpenAI-compatible)."""

    provider = "hf"
    default_base_url = "https://router.huggingface.co/v1"
    default_api_key_env = "HF_TOKEN"
    default_model_id = "meta-llama/Llama-3.1-8B-Instruct"
    #: Place in the default chain when its key is set (see HTTPBackend.default_priority).
    default_priority = 300
