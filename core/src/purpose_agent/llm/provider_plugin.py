"""The plugin object every HTTP provider package exposes: one place for the hooks they share.

A provider package holds only its quirks (a backend class in its ``backend`` module); its entry
point names a :class:`ProviderPlugin`, which registers that class under the provider's name and
validates ``[plugins.<provider>]`` with the provider settings model. Importing this module (and
so the provider package) costs nothing heavy: the backend class, httpx and pydantic load when a
``provider:`` model is first built or configured.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..hookspecs import hookimpl


def _resolve(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


class ProviderPlugin:
    """Hooks of one HTTP provider package.

    Args:
        provider: the provider name, also the plugin id and the prefix of ``provider:model``.
        backend: ``"package.module:Class"`` of the backend class (a package's own module; this is
            code written by the package, never a string read from configuration).
        description: one line for ``plugins info`` and ``models`` (name the key variable).
        settings: ``"package.module:Model"`` of the settings model (default: the common one).
    """

    PURPOSE_AGENT_HOOK_API = "1.0"

    def __init__(self, provider: str, backend: str, *, description: str,
                 settings: str = "purpose_agent.llm.settings:ProviderSettings") -> None:
        self.plugin_id = provider
        self._backend = backend
        self._settings = settings
        self.description = description

    @hookimpl
    def settings_model(self) -> Any:
        """``[plugins.<provider>]``: base_url, api_key_env, default_model, timeout, retries, headers, prices."""
        return _resolve(self._settings)

    @hookimpl
    def register_backends(self, register: Any) -> None:
        """Register the provider's backend under its name."""

        def factory(model: str, context: Any) -> Any:
            return _resolve(self._backend)(model, settings=context.settings)

        register(self.plugin_id, factory, description=self.description)

    def __repr__(self) -> str:
        return f"<provider plugin {self.plugin_id} ({self._backend})>"
