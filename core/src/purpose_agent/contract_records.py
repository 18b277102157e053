"""Records of the contract that a command's start does not need: built on first use.

Import them from :mod:`purpose_agent.interfaces` (``from purpose_agent.interfaces import Passage``),
which re-exports them on first access: each dataclass costs about 1.5 ms to create, and every CLI
command imports :mod:`purpose_agent.interfaces` (measured: four of these were 6 ms of
``purpose-agent plugins list``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["IndexedText", "Passage", "SearchHit", "WorkerSpec"]


@dataclass(frozen=True)
class Passage:
    """A piece of a document a knowledge source found for a query, with where it is.

    ``source`` is the file relative to the source's root, ``start``-``end`` its line range (a
    page range for a PDF), ``heading`` its heading path (``"Install > From source"``). ``score``
    is the search engine's (comparable only within one search); ``relevance`` how closely the
    passage matches the query on the source's own scale (the vault: the cosine of their vectors);
    ``relevant`` whether the source judges it close enough to support an answer. The text is
    untrusted ``document`` text.
    """

    text: str
    source: str
    start: int
    end: int
    heading: str = ""
    score: float = 0.0
    id: str = ""
    relevance: float | None = None
    relevant: bool = True

    @property
    def citation(self) -> str:
        """``file:start-end``, the form answers cite."""
        return f"{self.source}:{self.start}-{self.end}"


@dataclass(frozen=True)
class WorkerSpec:
    """What a task runs, described so another process (or machine) can rebuild it.

    ``factory(kernel)`` returns the worker: an agent with ``arun`` (a ``Spark``, a ``Team``) or a
    function of one task (sync or async). It must be picklable by reference, so a module-level
    function. ``config_path`` is the TOML file the worker's kernel loads (the same file on every
    machine: models, memory store, plugins); ``None`` loads the layered configuration found from
    the worker's working directory. Each process builds the worker once and reuses it.
    """

    factory: Callable[[Any], Any]
    config_path: str | None = None


@dataclass(frozen=True)
class IndexedText:
    """A text to index: a caller-chosen unique ``id``, the ``text``, and JSON-serialisable ``metadata``."""

    id: str
    text: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchHit:
    """One result: the text, its metadata, the mode's ``score`` (higher is better) and both ranks (1-based)."""

    id: str
    text: str
    metadata: Mapping[str, Any]
    score: float
    lexical_rank: int | None
    dense_rank: int | None
