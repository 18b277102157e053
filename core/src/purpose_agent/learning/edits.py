"""Small typed edits to memory — add, update, merge, supersede — never whole rewrites.

New lessons are planned against what memory already holds:

1. exact duplicates (same normalised text, :attr:`MemoryItem.content_hash`) are **merged** into
   the existing item (its counters and tags grow; no new item);
2. near duplicates (word-shingle similarity ≥ ``similarity``, 0.85 by default) are **merged**
   the same way, keeping the existing wording;
3. a lesson on the same subject with the opposite polarity ("always X" vs "never X") **supersedes**
   the old item: the new one is tagged ``supersedes:<id>``, and when memory CI promotes it the
   old one is archived with a reason naming its successor — never deleted, and never before the
   new one has passed the scanners and the replay;
4. anything else is **added** as a new candidate.

A merge keeps a decision already recorded on the existing item (an operator's override, a hold
for review), except that an item held for review is **released** when a run with no flagged
input proposes exactly the same text: the lesson is then derivable from clean inputs, and it goes
on to replay like any other.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..models import MemoryItem, MemoryStatus
from .ci import HELD_PREFIX, OPERATOR_PREFIX, is_held

_WORD = re.compile(r"[a-z0-9_]+")
_NEGATIONS = frozenset({"never", "not", "no", "don't", "dont", "avoid", "without", "stop", "nor"})
_POSITIVES = frozenset({"always", "must", "should", "prefer", "use", "do"})
_STOPWORDS = frozenset(
    "a an the to of in on for and or is are be it this that with as by at from when if then use using".split()
)


def words(text: str) -> list[str]:
    """Lower-case word tokens."""
    return _WORD.findall(text.lower().replace("'", ""))


def content_words(text: str) -> set[str]:
    """Words that carry the subject: no stopwords, no polarity words."""
    return {w for w in words(text) if w not in _STOPWORDS and w not in _NEGATIONS and w not in _POSITIVES}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of word bigrams and unigrams; 1.0 for identical wording."""
    def shingles(text: str) -> set[str]:
        toks = words(text)
        return set(toks) | {f"{x} {y}" for x, y in itertools.pairwise(toks)}

    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def polarity(text: str) -> int:
    """-1 if the text forbids something, +1 otherwise."""
    return -1 if _NEGATIONS & set(words(text)) else 1


def contradicts(new: str, old: str, *, subject_overlap: float = 0.6) -> bool:
    """Same subject (content-word overlap ≥ ``subject_overlap``) and opposite polarity."""
    a, b = content_words(new), content_words(old)
    if not a or not b:
        return False
    overlap = len(a & b) / min(len(a), len(b))
    return overlap >= subject_overlap and polarity(new) != polarity(old)


@dataclass
class MemoryEdit:
    """One planned change to memory."""

    op: Literal["add", "merge", "supersede", "update"]
    item: MemoryItem
    target: MemoryItem | None = None
    reason: str = ""


_LIVE = (MemoryStatus.CANDIDATE, MemoryStatus.QUARANTINED, MemoryStatus.PROMOTED)


def plan_edits(proposals: Iterable[MemoryItem], existing: Sequence[MemoryItem], *, threshold: float = 0.85) -> list[MemoryEdit]:
    """Plan edits for ``proposals`` against the ``existing`` items (rejected/archived ignored)."""
    live = [item for item in existing if item.status in _LIVE]
    edits: list[MemoryEdit] = []
    for proposal in proposals:
        by_hash = next((i for i in live if i.content_hash == proposal.content_hash), None)
        if by_hash is not None:
            edits.append(MemoryEdit("merge", proposal, by_hash, "exact duplicate"))
            continue
        scored = sorted(((similarity(proposal.text, i.text), i) for i in live), key=lambda p: p[0], reverse=True)
        if scored and scored[0][0] >= threshold:
            edits.append(MemoryEdit("merge", proposal, scored[0][1], f"near duplicate (similarity {scored[0][0]:.2f})"))
            continue
        opposed = next((i for i in live if contradicts(proposal.text, i.text)), None)
        if opposed is not None:
            edits.append(MemoryEdit("supersede", proposal, opposed, "contradicts an existing item"))
            live.append(proposal)
            continue
        edits.append(MemoryEdit("add", proposal, None, "new"))
        live.append(proposal)
    return edits


def merge_reason(target: MemoryItem, edit: MemoryEdit) -> str:
    """The ``status_reason`` of ``target`` after ``edit`` merged into it (see the module docstring)."""
    clean = not edit.item.provenance.flagged_inputs
    if is_held(target) and clean and edit.item.content_hash == target.content_hash:
        source = f" (run {edit.item.provenance.run_id})" if edit.item.provenance.run_id else ""
        return (f"released from review: a run with no flagged input{source} proposed exactly this lesson; "
                f"it was {target.status_reason}")
    if target.status_reason.startswith((OPERATOR_PREFIX, HELD_PREFIX)):
        return target.status_reason
    return f"merged a {edit.reason}"


def apply_edits(edits: Iterable[MemoryEdit], store: Any, kernel: Any = None) -> list[MemoryItem]:
    """Apply planned edits to a store; return the items that are new candidates.

    New and rewritten items pass through the kernel's ``memory_write`` hooks (which may veto).
    """
    added: list[MemoryItem] = []

    def write(item: MemoryItem) -> MemoryItem:
        return kernel.write_memory(item) if kernel is not None else item

    for edit in edits:
        if edit.op == "add":
            added.append(store.add(write(edit.item)))
        elif edit.op == "merge" and edit.target is not None:
            target = store.get(edit.target.id) or edit.target
            merged_tags = sorted(set(target.tags) | set(edit.item.tags) | {"merged"})
            counters = target.counters.model_copy(update={"uses": target.counters.uses})
            store.update(target.model_copy(update={"tags": merged_tags, "counters": counters,
                                                   "status_reason": merge_reason(target, edit)}))
        elif edit.op == "supersede" and edit.target is not None:
            # The old item is archived by memory CI only if the new one is promoted: an unscreened
            # contradiction (perhaps a poisoned one) must not retire a trusted lesson.
            tagged = edit.item.model_copy(update={"tags": [*edit.item.tags, f"supersedes:{edit.target.id}"]})
            added.append(store.add(write(tagged)))
        elif edit.op == "update" and edit.target is not None:
            store.update(write(edit.item.model_copy(update={"id": edit.target.id})))
    return added
