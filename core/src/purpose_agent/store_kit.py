"""What every memory store shares, so that stores rank and account alike (a contract module).

The kernel's SQLite store, ``purpose-agent-postgres`` and a third party's store use these instead
of copies of them: the words a query is searched by, the fusion of a ranking by words with a
ranking by meaning, the defaults of that hybrid search (measured on paraphrased lessons by
``tests/benchmarks/bench_retrieval.py``, docs/retrieval.md), the usefulness formula that
``record_use`` applies, and the canonical JSON of stored versions and exports. A store may rank
its words its own way (BM25 in SQLite tables, PostgreSQL's stemming); what it is asked to find,
and how two rankings become one, are the same everywhere.

Importing this module costs nothing measurable: it imports no pydantic, numpy or sqlite3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from .memory.usefulness import DEFAULT_POLICY, UsefulnessPolicy

__all__ = [
    "DEFAULT_POLICY", "HYBRID_CANDIDATES", "LEXICAL_FLOOR", "MAX_QUERY_TERMS", "MIN_SIMILARITY", "RRF_K",
    "SEMANTIC_CHOICES", "STOPWORDS", "UsefulnessPolicy", "canonical_json", "query_terms", "reciprocal_rank_fusion",
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
