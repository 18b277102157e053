"""Lossless JSONL export and import of a memory store, history included.

Format (UTF-8, one JSON object per line, keys sorted, no insignificant whitespace)::

    {"format":"purpose-agent-memory","version":1}
    {"history":[<version 1>, <version 2>, ...],"item":<current item>}
    ...

Items are ordered by id and nothing time-dependent is written besides the items' own fields, so
exporting, importing into an empty store and exporting again gives the same bytes. Import reads
and checks the whole file before writing anything, and writes in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from ..store_kit import canonical_json as canonical_json
from .errors import MemoryImportError

if TYPE_CHECKING:
    from ..models import MemoryItem

FORMAT = "purpose-agent-memory"
FORMAT_VERSION = 1




def item_json(item: MemoryItem) -> str:
    """An item as canonical JSON."""
    return canonical_json(item.model_dump(mode="json"))


@dataclass
class ExportRecord:
    """One item and its full history, oldest version first."""

    item: MemoryItem
    history: list[MemoryItem] = field(default_factory=list)


def export_jsonl(store: Any, fp: IO[str]) -> int:
    """Write every item of ``store`` with its history to ``fp``; return the number of items."""
    fp.write(canonical_json({"format": FORMAT, "version": FORMAT_VERSION}) + "\n")
    items = sorted(store.list(), key=lambda i: i.id)
    for item in items:
        history = [v.model_dump(mode="json") for v in store.history(item.id)]
        fp.write(canonical_json({"history": history, "item": item.model_dump(mode="json")}) + "\n")
    return len(items)


def read_jsonl(lines: Iterable[str], *, source: str = "input") -> list[ExportRecord]:
    """Parse and check an export; raise :class:`MemoryImportError` naming the first bad line."""
    from pydantic import ValidationError

    from ..models import MemoryItem

    records: list[ExportRecord] = []
    seen: set[str] = set()
    header_seen = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}, line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise MemoryImportError(f"{where} is not JSON ({exc.msg}); nothing was imported") from exc
        try:
            canonical_json(data).encode("utf-8")
        except UnicodeEncodeError as exc:
            # JSON may spell a lone surrogate (\ud800) that no UTF-8 store can hold
            raise MemoryImportError(
                f"{where} holds {exc.object[exc.start:exc.end]!r}, a lone surrogate that is not valid Unicode "
                "text; fix or remove that item. Nothing was imported."
            ) from exc
        if not header_seen:
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise MemoryImportError(
                    f"{where}: expected the header {canonical_json({'format': FORMAT, 'version': FORMAT_VERSION})}; "
                    "is this a file written by 'purpose-agent memory export'? Nothing was imported."
                )
            if data.get("version") != FORMAT_VERSION:
                raise MemoryImportError(
                    f"{where}: export format version {data.get('version')!r} is not supported (this purpose-agent "
                    f"reads version {FORMAT_VERSION}); export again with a matching release. Nothing was imported."
                )
            header_seen = True
            continue
        if not isinstance(data, dict) or set(data) != {"item", "history"} or not isinstance(data["history"], list):
            raise MemoryImportError(f"{where}: expected an object with 'item' and 'history' (a list); nothing was imported")
        try:
            item = MemoryItem.model_validate(data["item"])
            history = [MemoryItem.model_validate(v) for v in data["history"]]
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise MemoryImportError(f"{where}: invalid item ({loc}: {first['msg']}); nothing was imported") from exc
        problem = _check_history(item, history)
        if problem:
            raise MemoryImportError(f"{where}: item {item.id}: {problem}; nothing was imported")
        if item.id in seen:
            raise MemoryImportError(f"{where}: item {item.id} appears twice in the file; nothing was imported")
        seen.add(item.id)
        records.append(ExportRecord(item=item, history=history))
    if not header_seen:
        raise MemoryImportError(f"{source} is empty; expected a file written by 'purpose-agent memory export'")
    return records


def _check_history(item: MemoryItem, history: list[MemoryItem]) -> str:
    if not history:
        return "its history is empty (every item has at least the version it was added as)"
    if any(v.id != item.id for v in history):
        return "its history contains versions of another item"
    numbers = [v.version for v in history]
    if numbers != sorted(set(numbers)):
        return f"its history versions {numbers} are not strictly increasing"
    if numbers[-1] != item.version:
        return f"its current version {item.version} is not the last version in its history ({numbers[-1]})"
    return ""


@dataclass
class ImportReport:
    """What an import did."""

    imported: int = 0
    skipped: list[str] = field(default_factory=list)
    quarantined: int = 0


def import_records(store: Any, records: list[ExportRecord], *, skip_existing: bool = False,
                   quarantine: bool = False, write: Any = None) -> ImportReport:
    """Write parsed records into ``store``, versions and counters exactly as exported.

    The store must offer ``restore(records, skip_existing=...)`` (the SQLite store does), since
    the protocol's ``add``/``update`` renumber versions and restamp times. ``quarantine=True``
    then moves every imported ``candidate`` or ``promoted`` item to ``quarantined`` (a new
    version), for files from a source you do not trust. ``write`` (``kernel.write_memory``) sees
    each current item first and may veto the whole import.
    """
    restore = getattr(store, "restore", None)
    if restore is None:
        raise MemoryImportError(
            f"the {type(store).__name__} store cannot import with history (it has no 'restore' method); "
            "import into the sqlite store instead (--db PATH)"
        )
    if write is not None:
        records = [ExportRecord(item=write(r.item), history=r.history) for r in records]
    written: list[str] = restore(records, skip_existing=skip_existing)
    report = ImportReport(imported=len(written), skipped=sorted({r.item.id for r in records} - set(written)))
    if quarantine:
        from .lifecycle import change_status

        for record in records:
            if record.item.id in written and record.item.status.value in ("candidate", "promoted"):
                change_status(store, record.item.id, "quarantined", operator=True, actor="import",
                              reason="imported from a file; quarantined until screened again")
                report.quarantined += 1
    return report
