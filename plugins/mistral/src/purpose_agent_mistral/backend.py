"""The Mistral backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

import hashlib
import string
from typing import Any

from purpose_agent_http import OpenAICompatibleBackend

_ALPHABET = string.ascii_letters + string.digits


def mistral_tool_id(original: str) -> str:
    """A 9-character alphanumeric id for ``original``: unchanged if already valid, else derived
    deterministically, so the same id maps the same way in every message and every request."""
    if len(original) == 9 and original.isascii() and original.isalnum():
        return original
    number = int.from_bytes(hashlib.sha256(original.encode()).digest()[:8], "big")
    out = []
    for _ in range(9):
        number, digit = divmod(number, len(_ALPHABET))
        out.append(_ALPHABET[digit])
    return "".join(out)


class MistralBackend(OpenAICompatibleBackend):
    """Mistral's API (OpenAI-shaped chat completions)."""

    provider = "mistral"
    default_base_url = "https://api.mistral.ai/v1"
    default_api_key_env = "MISTRAL_API_KEY"
    default_model_id = "mistral-small-latest"
    #: Place in the default chain when its key is set (see HTTPBackend.default_priority).
    default_priority = 340
    #: Published list prices when written (USD per 1M prompt, completion tokens); for budgeting, not invoicing.
    list_prices = {
        "mistral-small-latest": (0.10, 0.30),
    }
    stream_usage = False

    def rewrite_messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for message in messages:
            message = dict(message)
            if message.get("tool_calls"):
                message["tool_calls"] = [{**c, "id": mistral_tool_id(c["id"])} for c in message["tool_calls"]]
            if message.get("role") == "tool" and message.get("tool_call_id"):
                message["tool_call_id"] = mistral_tool_id(message["tool_call_id"])
            out.append(message)
        return out
