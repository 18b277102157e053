"""What every memory store shares, so that stores rank and account alike.

Part of the public contract: plugins import these names from :mod:`purpose_agent.interfaces`,
which offers them on first access (this module is where they live).

``purpose-agent-sqlite``, ``purpose-agent-postgres`` and a third party's store use these instead
of copies of them: the words a query is searched by, the fusion of a ranking by words with a
ranking by meaning, the defaults of that hybrid search (measured on paraphrased lessons by
``tests/benchmarks/bench_retrieval.py``, docs/retrieval.md), the usefulness formula that
``record_use`` applies, and the canonical JSON of stored versions and exports. A store may rank
its words its own way (BM25 in SQLite tables, PostgreSQL's stemming); what it is asked to find,
and how two rankings become one, are the same everywhere.

Importing this module costs nothing measurable: it imports no pydantic, numpy or sqlite3.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from .memory.usefulness import DEFAULT_POLICY, UsefulnessPolicy

__all__ = [
    "DEFAULT_POLICY", "HYBRID_CANDIDATES", "LEXICAL_FLOOR", "MAX_QUERY_TERMS", "MIN_SIMILARITY", "RRF_K",
    "SEMANTIC_CHOICES", "STOPWORDS", "StoreEmbedder", "StoredHit", "UsefulnessPolicy", "canonical_json", "query_terms",
    "reciprocal_rank_fusion",
]

#: Words too common to say anything about relevance; dropping them from the query keeps BM25
#: focused and avoids scoring half the database for "how to".
STOPWORDS = frozenset(
    "a an and are as at be but by can do does for from has have how i if in into is it its me my no not of "
    "on or our so than that the their then there these they this to was we what when where which who why "
    "will with you your".split()
)
#: Letters and digits: FTS5's unicode61 tokenizer also splits at "_", so "parse_date" is two words.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: Most words of a query searched for (the first ones).
MAX_QUERY_TERMS = 32

#: Search by meaning (an embedder given): the lowest cosine between a query and an item for the
#: item to be a candidate by meaning, the share of the best lexical score a candidate by words must
#: reach, and how many candidates each ranking contributes at least.
MIN_SIMILARITY = 0.25
LEXICAL_FLOOR = 0.5
HYBRID_CANDIDATES = 50
#: A store's ``semantic`` setting: search by meaning when an embedder is installed ("auto"), always, never.
SEMANTIC_CHOICES = ("auto", True, False)

#: Reciprocal rank fusion's constant: a hit at rank r adds 1 / (RRF_K + r). 60 is the value of
#: Cormack, Clarke and Buettcher (2009); bench_retrieval.py compares others (docs/retrieval.md).
RRF_K = 60


def query_terms(text: str) -> list[str]:
    """The distinct words of a query, lowercased, stopwords dropped unless nothing else is left."""
    words = list(dict.fromkeys(_WORD.findall(text.lower())))
    content = [w for w in words if w not in STOPWORDS] or words
    return content[:MAX_QUERY_TERMS]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Any]], k: int = RRF_K) -> list[tuple[Any, float, list[int | None]]]:
    """Fuse rankings (each a list of keys, best first): ``(key, score, [rank in each or None])``, best first.

    ``score = sum(1 / (k + rank))``; ties keep the order of first appearance (earlier rankings first).
    """
    fused: dict[Any, list[int | None]] = {}
    scores: dict[Any, float] = {}
    for which, ranking in enumerate(rankings):
        for rank, key in enumerate(ranking, 1):
            ranks = fused.get(key)
            if ranks is None:
                ranks = fused[key] = [None] * len(rankings)
                scores[key] = 0.0
            if ranks[which] is None:  # a key twice in one ranking counts at its best rank
                ranks[which] = rank
                scores[key] += 1.0 / (k + rank)
    scored = [(key, scores[key], ranks) for key, ranks in fused.items()]
    scored.sort(key=lambda entry: -entry[1])  # stable: ties keep first appearance
    return scored


def canonical_json(data: Any) -> str:
    """The one serialisation of stored versions, JSON columns and export lines (stable bytes)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class StoredHit:
    """A search hit over a store's raw row: its ``score``, the row's columns read on demand, and
    the :class:`~purpose_agent.models.MemoryItem` built only when ``item`` is asked for.

    Retrieval reads relevance, usefulness, scope and use count of every candidate (50 per search)
    and builds items only for the few it keeps, so a store returns these from ``search_candidates``.
    A store subclasses it with ``columns`` (column name -> position in its rows) and overrides
    ``scope`` or ``uses`` where it keeps them differently (JSON text by default for the scope, an
    integer ``uses`` column by default for the use count).
    """

    __slots__ = ("_item", "_make", "_row", "score")

    #: Column name -> position in the rows this store's searches return.
    columns: ClassVar[Mapping[str, int]] = {}

    def __init__(self, score: float, row: Sequence[Any], make: Callable[[Sequence[Any]], Any]) -> None:
        self.score = score
        self._row = row
        self._make = make
        self._item: Any = None

    @property
    def item(self) -> Any:
        """The ``MemoryItem`` (validated once, when first asked for)."""
        if self._item is None:
            self._item = self._make(self._row)
        return self._item

    def column(self, name: str) -> Any:
        """A raw column (JSON columns as stored text)."""
        return self._row[self.columns[name]]

    @property
    def id(self) -> str:
        return str(self._row[self.columns["id"]])

    @property
    def text(self) -> str:
        return str(self._row[self.columns["text"]])

    @property
    def status(self) -> str:
        return str(self._row[self.columns["status"]])

    @property
    def scope(self) -> tuple[str, str]:
        return scope_pair(self._row[self.columns["scope"]])

    @property
    def usefulness(self) -> float:
        return float(self._row[self.columns["usefulness"]])

    @property
    def uses(self) -> int:
        return int(self._row[self.columns["uses"]])

    @property
    def updated_at(self) -> float:
        return float(self._row[self.columns["updated_at"]])


# The same few scope texts come back in search after search, so each is parsed once.
@functools.lru_cache(maxsize=4096)
def scope_pair(scope_json: str) -> tuple[str, str]:
    """``(level, value)`` of a scope stored as JSON text."""
    scope = json.loads(scope_json)
    return scope.get("level", "global"), scope.get("value", "")


class StoreEmbedder:
    """The embedder a store searches by meaning with, as every store takes it: ``None`` (words
    only), an embedder, or a function returning one or ``None`` on first search (``semantic =
    "auto"``: the kernel's ``embedder_if_available``). An embedder found that way is optional: if
    it fails, :meth:`give_up` says so once and the store searches by words from then on."""

    def __init__(self, embedder: Any) -> None:
        self.source = embedder
        self._value: Any = None if callable(embedder) and not hasattr(embedder, "embed") else embedder
        self._resolved = self._value is not None or embedder is None
        self.optional = not self._resolved
        self._lock = threading.Lock()

    def get(self) -> Any:
        """The embedder, resolved once (thread-safe), or ``None``."""
        if not self._resolved:
            with self._lock:
                if not self._resolved:
                    self._value = self.source()
                    self._resolved = True
        return self._value

    def give_up(self, exc: BaseException) -> bool:
        """After ``exc`` from searching by meaning: ``True`` if the store should answer by words
        (the embedder was optional and failed as embedders fail; warned, and not used again in
        this process), ``False`` if ``exc`` is the caller's to see."""
        from .errors import PurposeAgentError

        if not self.optional or not isinstance(exc, (PurposeAgentError, OSError, RuntimeError)):
            return False
        import warnings

        warnings.warn(f"memory is searched by words only from now on in this process: the embedder failed ({exc})",
                      RuntimeWarning, stacklevel=3)
        self._value = None
        return True
