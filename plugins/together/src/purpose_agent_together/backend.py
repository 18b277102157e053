"""The Together AI backend: only what differs from the OpenAI chat-completions protocol."""

from __future__ import annotations

from collections.abc import Mapping

from purpose_agent_http import OpenAICompatibleBackend, RateLimitInfo, parse_duration


class TogetherBackend(OpenAICompatibleBackend):
    """Together AI's OpenAI-compatible endpoint."""

    provider = "together"
    default_base_url = "https://api.together.xyz/v1"
    default_api_key_env = "TOGETHER_API_KEY"
    default_model_id = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
    #: Place in the default chain when its key is set (see HTTPBackend.default_priority).
    default_priority = 330

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo:
        remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
        return RateLimitInfo(
            requests_remaining=int(remaining) if remaining and remaining.isdigit() else None,
            reset_s=parse_duration(reset),
        )
