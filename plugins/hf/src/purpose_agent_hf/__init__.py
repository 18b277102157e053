"""Hugging Face router backend for purpose-agent: ``hf:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``hf:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import ProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` entry point ``hf`` names.
plugin = ProviderPlugin("hf", "purpose_agent_hf.backend:HFBackend", description="Hugging Face inference router (HF_TOKEN)")
