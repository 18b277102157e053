"""purpose-agent-vault: a directory of documents as a screened, searchable vault with citations.

::

    from purpose_agent_vault import Vault            # or pa.Vault.from_directory, via the kernel

    vault = Vault.from_directory("./docs/", pattern="**/*.md")
    vault.search("refund policy", k=5)               # passages with file:start-end and headings
    team = pa.purpose("Support", knowledge="./docs/")
    team.ask("What is our refund policy?")            # cites file:start-end, or says there is no support

The plugin registers the ``knowledge`` source ``vault`` (what ``knowledge="./docs/"`` becomes)
and the ``purpose-agent vault`` command. Importing it imports nothing heavy: the vault module,
the search engine and pypdf load on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from purpose_agent.hookspecs import hookimpl, register_lazily

if TYPE_CHECKING:
    from .vault import FlaggedChunk, RefreshReport, Vault, VaultSearchTool

PURPOSE_AGENT_HOOK_API = "1.4"

#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = "vault"

__all__ = ["FlaggedChunk", "RefreshReport", "Vault", "VaultSearchTool"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import vault

        return getattr(vault, name)
    raise AttributeError(f"module 'purpose_agent_vault' has no attribute '{name}'")


@hookimpl
def settings_model() -> Any:
    """``[plugins.vault]``: how vaults built from ``knowledge="DIR"`` and the CLI search."""
    from typing import Literal

    from pydantic import BaseModel, Field

    class VaultSettings(BaseModel):
        mode: Literal["hybrid", "lexical", "dense"] = "hybrid"
        embedder: str = Field(default="default", description="an embedder name, 'default', or 'none' (lexical only)")
        min_relevance: float = Field(default=0.35, ge=-1.0, le=1.0,
                                     description="cosine a passage needs to support an answer")
        max_chars: int = Field(default=1200, ge=200, le=20000, description="largest chunk, in characters")
        ignore_scanners: list[str] = Field(default=[], description="scanners whose findings do not flag a chunk")

    return VaultSettings


def vault_options(settings: Any) -> dict[str, Any]:
    """The :class:`Vault` keyword arguments ``[plugins.vault]`` sets."""
    if settings is None:
        return {}
    return {"mode": settings.mode, "embedder": None if settings.embedder == "none" else settings.embedder,
            "min_relevance": settings.min_relevance, "max_chars": settings.max_chars,
            "ignore_scanners": list(settings.ignore_scanners)}


def _vault_for(context: Any) -> Any:
    """The knowledge factory: a vault over ``context.options["path"]``, indexed on first search."""
    from .vault import Vault

    options = {**vault_options(context.settings), **context.options}
    path = options.pop("path")
    return Vault(path, kernel=context.kernel, **options)


@hookimpl
def register_knowledge(register: Callable[..., None]) -> None:
    """Contribute the ``vault`` knowledge source."""
    register("vault", _vault_for, description="a directory of documents: chunked, screened, searched, cited")


register_commands = register_lazily("vault", "purpose_agent_vault.command:VaultCommand",
                                    description="index a directory of documents, search it, ask it with citations")
