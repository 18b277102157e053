"""What a call cost: a small table of list prices, in USD per million tokens.

Prices change; these are the providers' published list prices when this table was written and
are meant for budgeting, not invoicing. A price a user configures (``[plugins.<id>] prices``)
wins over the table. A model missing from both gets ``cost_usd = None`` ("unknown"), never a
guessed number. Local backends (``llamacpp``, ``ollama``) cost nothing per token.
"""

from __future__ import annotations

from collections.abc import Mapping

#: (provider, model) -> (USD per 1M prompt tokens, USD per 1M completion tokens).
PRICES: dict[tuple[str, str], tuple[float, float]] = {
    ("openai", "gpt-4o-mini"): (0.15, 0.60),
    ("openai", "gpt-4o"): (2.50, 10.00),
    ("openai", "gpt-4.1-mini"): (0.40, 1.60),
    ("openai", "gpt-4.1-nano"): (0.10, 0.40),
    ("groq", "llama-3.1-8b-instant"): (0.05, 0.08),
    ("groq", "llama-3.3-70b-versatile"): (0.59, 0.79),
    ("deepseek", "deepseek-chat"): (0.27, 1.10),
    ("deepseek", "deepseek-reasoner"): (0.55, 2.19),
    ("mistral", "mistral-small-latest"): (0.10, 0.30),
    ("cerebras", "llama3.1-8b"): (0.10, 0.10),
    ("anthropic", "claude-3-5-haiku-latest"): (0.80, 4.00),
}

#: Providers that run on the user's machine.
LOCAL_PROVIDERS = frozenset({"llamacpp", "ollama"})


def price_of(
    provider: str, model: str, overrides: Mapping[str, tuple[float, float] | list[float]] | None = None
) -> tuple[float, float] | None:
    """The (prompt, completion) price per 1M tokens, or ``None`` if unknown."""
    if provider in LOCAL_PROVIDERS:
        return (0.0, 0.0)
    if overrides and model in overrides:
        prompt, completion = overrides[model]
        return float(prompt), float(completion)
    return PRICES.get((provider, model))


def cost_usd(
    provider: str,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    overrides: Mapping[str, tuple[float, float] | list[float]] | None = None,
) -> float | None:
    """The cost of one call in USD, or ``None`` when the price is not known."""
    price = price_of(provider, model, overrides)
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000
