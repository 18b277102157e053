"""The OpenRouter backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

import time
from collections.abc import Mapping

from purpose_agent_http import OpenAICompatibleBackend, RateLimitInfo


class OpenRouterBackend(OpenAICompatibleBackend):
    """OpenRouter's aggregated endpoint."""

    provider = "openrouter"
    default_base_url = "https://openrouter.ai/api/v1"
    default_api_key_env = "OPENROUTER_API_KEY"
    default_model_id = "openrouter/auto"
    #: Place in the default chain when its key is set (see HTTPBackend.default_priority).
    default_priority = 360
    reasoning_fields = ("reasoning", "reasoning_content")

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo:
        # X-RateLimit-Reset is an epoch time in milliseconds.
        reset = headers.get("x-ratelimit-reset")
        reset_s = None
        if reset and reset.isdigit():
            reset_s = max(0.0, int(reset) / 1000 - time.time())
        remaining = headers.get("x-ratelimit-remaining")
        return RateLimitInfo(
            requests_remaining=int(remaining) if remaining and remaining.isdigit() else None, reset_s=reset_s
        )
