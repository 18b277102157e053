"""The DeepSeek backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

import json
from typing import Any

from purpose_agent.llm.openai_compat import OpenAICompatibleBackend
from purpose_agent.models import ChatRequest


class DeepSeekBackend(OpenAICompatibleBackend):
    """DeepSeek's OpenAI-compatible endpoint."""

    provider = "deepseek"
    default_base_url = "https://api.deepseek.com/v1"
    default_api_key_env = "DEEPSEEK_API_KEY"
    default_model_id = "deepseek-chat"
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
