"""The plugin object every HTTP provider package exposes: one place for the hooks they share.

A provider package holds only its quirks (a backend class in its ``backend`` module); its entry
point names a :class:`ProviderPlugin`, which registers that class under the provider's name,
validates ``[plugins.<provider>]`` with the provider settings model, and describes the provider
to the kernel (``backend_profiles``: detected by its key variable, ranked by the class's
``default_priority``, priced by its ``list_prices``). Importing this module (and so the provider
package) costs nothing heavy: the backend class, httpx and pydantic load when a ``provider:``
model is first built or configured, or the kernel chooses a default model.
"""

from __future__ import annotations

import importlib
from typing import Any

from purpose_agent.hookspecs import hookimpl


def _resolve(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


class ProviderPlugin:
    """Hooks of one HTTP provider package.

    Args:
        provider: the provider name, also the plugin id and the prefix of ``provider:model``.
        backend: ``"package.module:Class"`` of the backend class, an :class:`HTTPBackend`
            subclass (a package's own module; this is code written by the package, never a
            string read from configuration).
        description: one line for ``plugins info`` and ``models`` (name the key variable).
        settings: ``"package.module:Model"`` of the settings model (default: the common one).
    """

    PURPOSE_AGENT_HOOK_API = "1.2"

    def __init__(self, provider: str, backend: str, *, description: str,
                 settings: str = "purpose_agent_http.settings:ProviderSettings") -> None:
        self.plugin_id = provider
        self._backend = backend
        self._settings = settings
        self.description = description

    @hookimpl
    def settings_model(self) -> Any:
        """``[plugins.<provider>]``: base_url, api_key_env, default_model, timeout, retries, connections, headers, prices."""
        return _resolve(self._settings)

    @hookimpl
    def register_backends(self, register: Any) -> None:
        """Register the provider's backend under its name."""

        def factory(model: str, context: Any) -> Any:
            return _resolve(self._backend)(model, settings=context.settings)

        register(self.plugin_id, factory, description=self.description)

    @hookimpl
    def backend_profiles(self, settings: Any) -> list[Any]:
        """How the kernel detects, ranks and prices this provider (the backend class's ``profile``)."""
        return [_resolve(self._backend).profile(self.plugin_id, settings)]

    def __repr__(self) -> str:
        return f"<provider plugin {self.plugin_id} ({self._backend})>"


class EmbeddingProviderPlugin(ProviderPlugin):
    """A provider that also serves sentence embeddings: registers an embedder under its name too.

    Args:
        embedder: ``"package.module:Class"`` of the embedder class, an
            :class:`~purpose_agent_http.embeddings.HTTPEmbedder` subclass.
        default_embedding_model: the model used when ``[plugins.<provider>] embedding_model``
            is not set.
        Other arguments as :class:`ProviderPlugin`; ``settings`` must be (a subclass of)
        :class:`~purpose_agent_http.settings.EmbeddingProviderSettings`.
    """

    PURPOSE_AGENT_HOOK_API = "1.2"

    def __init__(self, provider: str, backend: str, *, embedder: str, default_embedding_model: str,
                 description: str, settings: str = "purpose_agent_http.settings:EmbeddingProviderSettings") -> None:
        super().__init__(provider, backend, description=description, settings=settings)
        self._embedder = embedder
        self.default_embedding_model = default_embedding_model

    @hookimpl
    def register_embedders(self, register: Any) -> None:
        """Register the provider's embedder under its name (``[runtime] embedder = "<provider>"``)."""

        def factory(context: Any) -> Any:
            settings = context.settings
            client = _resolve(self._backend)("", settings=settings)
            return _resolve(self._embedder)(
                client,
                getattr(settings, "embedding_model", None) or self.default_embedding_model,
                dimension=getattr(settings, "embedding_dimensions", None),
                request_dimension=getattr(settings, "embedding_dimensions", None) is not None,
                batch_size=getattr(settings, "embedding_batch_size", 64),
                max_chars=getattr(settings, "embedding_max_chars", 8000),
            )

        register(self.plugin_id, factory,
                 description=f"{self.description}: sentence embeddings (default model {self.default_embedding_model})")
