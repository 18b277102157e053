"""DeepSeek backend for purpose-agent: ``deepseek:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``deepseek:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import ProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` entry point ``deepseek`` names.
plugin = ProviderPlugin("deepseek", "purpose_agent_deepseek.backend:DeepSeekBackend", description="DeepSeek (DEEPSEEK_API_KEY)")
