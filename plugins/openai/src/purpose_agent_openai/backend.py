"""The OpenAI backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from purpose_agent.models import Message
from purpose_agent_http import OpenAICompatibleBackend


class OpenAIBackend(OpenAICompatibleBackend):
    """OpenAI's own API, and through ``base_url`` any server speaking the protocol (llama.cpp, vLLM...)."""

    provider = "openai"
    default_base_url = "https://api.openai.com/v1"
    default_api_key_env = "OPENAI_API_KEY"
    default_model_id = "gpt-4o-mini"
    #: Place in the default chain when its key is set (see HTTPBackend.default_priority).
    default_priority = 390
    #: Published list prices when written (USD per 1M prompt, completion tokens); for budgeting, not invoicing.
    list_prices = {
        "gpt-4o-mini": (0.15, 0.60),
        "gpt-4o": (2.50, 10.00),
        "gpt-4.1-mini": (0.40, 1.60),
        "gpt-4.1-nano": (0.10, 0.40),
    }

    def __init__(self, model: str = "", *, settings: Any = None, **kwargs: Any) -> None:
        super().__init__(model, settings=settings, **kwargs)
        explicit = getattr(settings, "openai_wire", None)
        host = urlparse(self.base_url).hostname or ""
        self.openai_wire = explicit if explicit is not None else (
            host == "api.openai.com" or host.endswith(".openai.azure.com"))

    def message_to_wire(self, message: Message) -> dict[str, Any]:
        wire = super().message_to_wire(message)
        # Template-driven servers (llama-cpp-python 0.3.36) refuse content null beside tool_calls
        # and fail on an absent key; "" is what they accept.
        if not self.openai_wire and wire.get("content") is None:
            wire["content"] = ""
        return wire

    def filter_params(self, body: dict[str, Any]) -> dict[str, Any]:
        # OpenAI's o-series and newer models refuse max_tokens; max_completion_tokens works on all
        # of OpenAI's models. Other servers may not know the new name (llama-cpp-python ignores it).
        if "max_tokens" in body and self.openai_wire:
            body = {**body, "max_completion_tokens": body["max_tokens"]}
            del body["max_tokens"]
        return super().filter_params(body)
