"""The DeepSeek backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

import json
from typing import Any

from purpose_agent.models import ChatRequest
from purpose_agent_http import OpenAICompatibleBackend


class DeepSeekBackend(OpenAICompatibleBackend):
    """DeepSeek's OpenAI-compatible endpoint."""

    provider = "deepseek"
    default_base_url = "https://api.deepseek.com/v1"
    default_api_key_env = "DEEPSEEK_API_KEY"
    default_model_id = "deepseek-chat"
    #: Place in the default chain when its key is set (see HTTPBackend.default_priority).
    default_priority = 350
    #: Published list prices when written (USD per 1M prompt, completion tokens); for budgeting, not invoicing.
    list_prices = {
        "deepseek-chat": (0.27, 1.10),
        "deepseek-reasoner": (0.55, 2.19),
    }
    reasoning_fields = ("reasoning_content",)

    def response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {"type": "json_object"}

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body = super().build_body(request, stream=stream)
        if request.response_schema is not None:
            # json_object mode needs "json" in the prompt; the schema itself goes there too.
            instruction = {
                "role": "system",
                "content": "Reply with a single json object that matches this JSON schema: "
                + json.dumps(request.response_schema),
            }
            body["messages"] = [instruction, *body["messages"]]
        return body
