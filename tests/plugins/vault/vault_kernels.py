"""Kernels for vault tests: the vault plugin, a test scanner and embedder (imported by the
test modules by this unique name; a module named ``conftest`` may be another directory's)."""

from __future__ import annotations

from phrase_scanner import phrase_scanner_plugin

import purpose_agent_vault
from purpose_agent.testing import HashingEmbedder, make_kernel, plugin


def hashing_embedder_plugin():
    return plugin("hashing", register_embedders=lambda register: register("hashing", lambda context: HashingEmbedder()))


def vault_kernel(*, scanners: bool | str = True, vault_settings: dict | None = None, extra: tuple = ()):
    """A kernel with the vault, the deterministic hashing embedder and a scanner: the phrase
    scanner, the immune plugin's real ones (``scanners="immune"``) or none (``False``)."""
    plugins: list = [{"vault": purpose_agent_vault}, hashing_embedder_plugin(), *extra]
    if scanners == "immune":
        from purpose_agent_immune import plugins as immune

        plugins.append({"immune-injection": immune.injection, "immune-tools": immune.tools})
    elif scanners:
        plugins.append(phrase_scanner_plugin())
    config = {"runtime": {"embedder": "hashing", "embedding_cache": False},
              "plugins": {"vault": vault_settings or {}}}
    return make_kernel(*plugins, config=config)
