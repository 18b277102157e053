"""A small corpus for testing that a memory store finds a lesson by meaning.

:data:`PIN` and the query :data:`PARAPHRASE_QUERY` share no word, so a store that finds one for
the other through a real sentence embedder searches by meaning; :data:`DISTRACTORS` are ten
unrelated lessons of the same kind to find it among. Used by the SQLite store's tests and by the
PostgreSQL plugin's, so a store written elsewhere can be held to the same cases::

    from purpose_agent.testing.memory_corpus import DISTRACTORS, PARAPHRASE_QUERY, PIN, promoted

    store.add_many([promoted(PIN), *(promoted(text) for text in DISTRACTORS)])
    assert store.search(PARAPHRASE_QUERY, limit=1)[0].item.text == PIN
"""

from __future__ import annotations

from purpose_agent.models import MemoryItem, MemoryStatus, Scope

PIN = "Always pin dependency versions in the lockfile."
PARAPHRASE_QUERY = "How do I make installs reproducible?"
DISTRACTORS = (
    "Retry flaky network calls with exponential backoff and a jitter.",
    "Close file handles in a finally block or use a context manager.",
    "Use parameterised SQL queries instead of string formatting.",
    "Normalise unicode text before comparing two strings.",
    "Log the full traceback when a background job fails.",
    "Parse dates with an explicit time zone, never a naive datetime.",
    "Keep functions small and give them one job each.",
    "Set an explicit timeout on every HTTP request.",
    "Escape user input before putting it in an HTML page.",
    "Write the failing test before fixing a bug.",
)


def promoted(text: str, scope: Scope | None = None, status: MemoryStatus = MemoryStatus.PROMOTED) -> MemoryItem:
    """A memory item with ``text``, promoted unless ``status`` says otherwise."""
    return MemoryItem(text=text, status=status, scope=scope or Scope())


__all__ = ["DISTRACTORS", "PARAPHRASE_QUERY", "PIN", "promoted"]
