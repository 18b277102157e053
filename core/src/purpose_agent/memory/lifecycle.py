"""Status transitions and rollback of memory items, for any :class:`MemoryStore`.

Statuses (``MemoryStatus``)::

    candidate ──> quarantined ──> promoted ──> archived
        │              │             │
        │              │             └──> quarantined   (demoted: new evidence against it)
        └──> rejected <┴─────────────┘
    candidate, quarantined, rejected ──> archived

Only ``promoted`` items are retrievable by default. The automatic pipeline must follow the
arrows (promotion needs the gate: scanners plus a replay test). An *operator* (a person, via
``purpose-agent memory``) may move an item to any other status; the override is written into
``status_reason`` so it is visible in ``show`` and ``history``.

Every change is a new version through ``store.update``; nothing is deleted. A rollback writes a
new version whose content (text, kind, status, scope, tags, provenance) equals an old one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import InvalidTransition, MemoryItemNotFound

if TYPE_CHECKING:
    from ..models import MemoryItem

#: status -> statuses the automatic pipeline may move it to.
TRANSITIONS: dict[str, frozenset[str]] = {
    "candidate": frozenset({"quarantined", "rejected", "archived"}),
    "quarantined": frozenset({"promoted", "rejected", "archived"}),
    "promoted": frozenset({"quarantined", "rejected", "archived"}),
    "rejected": frozenset({"archived"}),
    "archived": frozenset(),
}

#: The fields a rollback restores; counters and usefulness are evidence of use and are kept.
CONTENT_FIELDS = ("kind", "status", "text", "scope", "provenance", "tags")

Writer = Callable[["MemoryItem"], "MemoryItem"]


def check_transition(current: str, target: str, *, operator: bool = False) -> None:
    """Raise :class:`InvalidTransition` unless ``current -> target`` is allowed."""
    current, target = str(current), str(target)
    if target not in TRANSITIONS:
        raise InvalidTransition(f"'{target}' is not a memory status; use one of {', '.join(TRANSITIONS)}")
    if current == target:
        raise InvalidTransition(f"the item is already {target}; nothing to change")
    if operator:
        return
    if target not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "nothing (it is final)"
        raise InvalidTransition(
            f"a {current} item cannot become {target} automatically; from {current} it may become {allowed}. "
            "An operator can override with 'purpose-agent memory promote|reject|archive ID --reason ...'."
        )


def require(store: Any, item_id: str) -> MemoryItem:
    """Return the current item or raise :class:`MemoryItemNotFound` with a usable sentence."""
    item = store.get(item_id)
    if item is None:
        raise MemoryItemNotFound(
            f"no memory item with id {item_id!r}; 'purpose-agent memory list' shows the ids"
        )
    return item


def change_status(store: Any, item_id: str, target: str, *, reason: str, operator: bool = False,
                  actor: str = "", write: Writer | None = None) -> MemoryItem:
    """Move an item to status ``target`` recording ``reason``; return the new version.

    ``operator=True`` skips the transition rules (a person decided) and records that it was an
    override, by whom. ``write`` (usually ``kernel.write_memory``) sees the item before the
    store does and may veto it.
    """
    from ..models import MemoryStatus

    if not reason.strip():
        raise InvalidTransition("a status change needs a reason; say why (e.g. --reason 'duplicate of 3f2a…')")
    item = require(store, item_id)
    check_transition(item.status, target, operator=operator)
    note = reason.strip()
    if operator:
        who = f" by {actor}" if actor else ""
        note = f"operator override{who} ({item.status.value} -> {target}): {note}"
    changed = item.model_copy(update={"status": MemoryStatus(target), "status_reason": note})
    if write is not None:
        changed = write(changed)
    return store.update(changed)


def rollback(store: Any, item_id: str, version: int, *, reason: str = "", write: Writer | None = None) -> MemoryItem:
    """Write a new version of ``item_id`` whose content equals version ``version``.

    History is never rewritten: versions after ``version`` stay, and the rollback itself becomes
    the newest version. Counters and usefulness keep their current values.
    """
    current = require(store, item_id)
    versions = {v.version: v for v in store.history(item_id)}
    old = versions.get(version)
    if old is None:
        raise MemoryItemNotFound(
            f"memory item {item_id} has no version {version}; it has versions "
            f"{', '.join(str(v) for v in sorted(versions))} ('purpose-agent memory history {item_id}')"
        )
    if version == current.version:
        raise InvalidTransition(f"version {version} is already the current version of {item_id}; nothing to roll back")
    restored = current.model_copy(update={field: getattr(old, field) for field in CONTENT_FIELDS})
    note = f"rolled back to version {version}" + (f": {reason.strip()}" if reason.strip() else "")
    restored = restored.model_copy(update={"status_reason": note})
    if write is not None:
        restored = write(restored)
    return store.update(restored)
