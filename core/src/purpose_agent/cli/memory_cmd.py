"""``purpose-agent memory list|show|history|review|promote|reject|archive|rollback|export|import|stats``.

Works on the configured store: ``[memory] store`` (default ``"sqlite"``, the embedded store of
``purpose-agent-sqlite``; without it, an error naming the package) with ``[memory] path``
(default: the per-user data directory); ``--db PATH`` means the sqlite store at ``PATH``.

Every change goes through the kernel's ``memory_write`` hooks (a plugin may veto it) and is a
new version: nothing is deleted, and ``rollback`` undoes any change. Status changes made here
are operator decisions: they need ``--reason`` and are recorded as overrides in
``status_reason`` (``promote`` bypasses the promotion gate, so it says so). ``review`` lists the
items memory CI holds for review (derived from a run with flagged inputs) and why.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import PurposeAgentError
from ..terminal_text import printable, printable_json

STATUSES = ("candidate", "quarantined", "promoted", "rejected", "archived")
KINDS = ("heuristic", "procedure", "fact", "episode", "preference", "warning", "tool_note")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``purpose-agent memory`` and its actions."""
    # --db works before or after the action: defined on both, SUPPRESS keeps one from erasing the other
    common = argparse.ArgumentParser(add_help=False)
    for holder in (common, parser):
        holder.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                            help="use the sqlite store at PATH instead of the configured store")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    lister = actions.add_parser("list", parents=[common], help="current items, newest first")
    lister.add_argument("--status", choices=STATUSES)
    lister.add_argument("--kind", choices=KINDS)
    lister.add_argument("--limit", type=count, default=50, help="at most this many (default 50; 0 = all)")
    lister.add_argument("--json", action="store_true", help="print JSON lines, one item each")
    lister.set_defaults(run=run_list)

    show = actions.add_parser("show", parents=[common], help="one item in full")
    show.add_argument("id", help="item id (a unique prefix is enough)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=run_show)

    history = actions.add_parser("history", parents=[common], help="every version of one item, oldest first")
    history.add_argument("id")
    history.add_argument("--json", action="store_true", help="print JSON lines, one version each")
    history.set_defaults(run=run_history)

    review = actions.add_parser("review", parents=[common],
                                help="items held for review (from runs with flagged tool outputs) and why")
    review.add_argument("--json", action="store_true", help="print JSON lines, one item each")
    review.set_defaults(run=run_review)

    for verb, target, what in (("promote", "promoted", "make retrievable (an operator override of the gate)"),
                               ("reject", "rejected", "mark as wrong or unsafe"),
                               ("archive", "archived", "retire (kept, never retrieved)")):
        p = actions.add_parser(verb, parents=[common], help=what)
        p.add_argument("id")
        p.add_argument("--reason", required=True, help="why; recorded in the item's history")
        p.set_defaults(run=run_status, target=target)

    rollback = actions.add_parser("rollback", parents=[common], help="write a new version equal to an old one")
    rollback.add_argument("id")
    rollback.add_argument("version", type=count)
    rollback.add_argument("--reason", default="", help="why; recorded in the item's history")
    rollback.set_defaults(run=run_rollback)

    export = actions.add_parser("export", parents=[common], help="write every item and its history as JSONL")
    export.add_argument("file", nargs="?", default="-", help="output file (default: standard output)")
    export.set_defaults(run=run_export)

    importer = actions.add_parser("import", parents=[common], help="restore items and history from an export")
    importer.add_argument("file", help="a file written by 'memory export' ('-' for standard input)")
    importer.add_argument("--skip-existing", action="store_true", help="leave out items whose id exists")
    importer.add_argument("--quarantine", action="store_true",
                          help="quarantine imported candidate/promoted items (for files you do not fully trust)")
    importer.set_defaults(run=run_import)

    stats = actions.add_parser("stats", parents=[common], help="counts by status and kind, file size")
    stats.set_defaults(run=run_stats)
    parser.set_defaults(run=lambda args: _usage(parser))


def count(text: str) -> int:
    """A whole number from 0 to 2**31 - 1 (limits and version numbers; the store keeps 64-bit integers)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is out of range (0 to {2**31 - 1})")
    return value


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


# --------------------------------------------------------------------------- opening the store


def open_store(args: argparse.Namespace) -> tuple[Any, Any]:
    """Build ``(kernel, store)`` for the command: ``--db`` or the configured store."""
    from ..kernel import Kernel

    kernel = Kernel.load(strict=getattr(args, "strict", None))
    db = getattr(args, "db", None)
    if db:
        return kernel, kernel.memory_store("sqlite", path=str(Path(db).expanduser()))
    name = kernel.config.get("memory.store", "sqlite")
    if not isinstance(name, str) or not name:
        raise PurposeAgentError(f"[memory] store must be a store name such as \"sqlite\", not {name!r}")
    return kernel, kernel.memory_store(name)


def resolve_id(store: Any, text: str) -> str:
    """The full id for ``text``: an exact id, or a prefix that matches exactly one item."""
    from ..memory.errors import MemoryItemNotFound

    if store.get(text) is not None:
        return text
    finder = getattr(store, "ids_with_prefix", None)
    matches = finder(text, limit=2) if finder else [i.id for i in store.list() if i.id.startswith(text)][:2]
    if len(matches) == 1:
        return str(matches[0])
    if not matches:
        raise MemoryItemNotFound(f"no memory item with id {text!r}; 'purpose-agent memory list' shows the ids")
    raise MemoryItemNotFound(f"{text!r} matches more than one item ({', '.join(matches)}, …); give more of the id")


def _with_store(args: argparse.Namespace, action: Callable[[Any, Any], int | None]) -> int:
    """``action(kernel, store)`` on the command's store, closed afterwards."""
    kernel, store = open_store(args)
    try:
        return int(action(kernel, store) or 0)
    finally:
        store.close()


def _on_store(run: Callable[[argparse.Namespace, Any, Any], int | None]) -> Callable[[argparse.Namespace], int]:
    """``run(args, kernel, store)`` as a subcommand's action (``args -> exit code``): every
    subcommand works on the store ``--db`` or the configuration names, opened for it."""

    @functools.wraps(run)
    def action(args: argparse.Namespace) -> int:
        return _with_store(args, lambda kernel, store: run(args, kernel, store))

    return action


def _json_lines(models: list[Any]) -> int:
    """``--json``: one JSON object a line (items or versions), escaped for the terminal."""
    for model in models:
        print(printable_json(model.model_dump_json()))
    return 0


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    # escaped after cutting, so an escape is never cut in half
    return printable(flat if len(flat) <= width else flat[: width - 1] + "…", one_line=True)


def _actor() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (some containers); the override is still recorded
        return "unknown user"


# --------------------------------------------------------------------------- actions


@_on_store
def run_list(args: argparse.Namespace, kernel: Any, store: Any) -> int:
    """``memory list``."""
    from ..models import MemoryStatus

    status = MemoryStatus(args.status) if args.status else None
    limit = None if args.limit <= 0 or args.kind else args.limit
    items = [i for i in store.list(status=status, limit=limit) if not args.kind or i.kind.value == args.kind]
    if args.limit > 0:
        items = items[: args.limit]
    if args.json:
        return _json_lines(items)
    if not items:
        print("no memory items" + (f" with status {args.status}" if args.status else ""))
        return 0
    print(f"{'id':12}  {'status':11} {'kind':10} {'v':>3} {'uses':>4} {'useful':>6}  text")
    for item in items:
        print(f"{printable(item.id[:12], one_line=True):12}  {item.status.value:11} {item.kind.value:10} {item.version:3d} "
              f"{item.counters.uses:4d} {item.usefulness:6.2f}  {_one_line(item.text, 60)}{_waits(item)}")
    return 0


def _waits(item: Any) -> str:
    """Why an undecided item waits, for the end of its line (the list stays one item a line)."""
    from ..learning.ci import waiting_reason

    if item.status.value not in ("candidate", "quarantined"):
        return ""
    return f"  [waits: {_one_line(waiting_reason(item), 120)}]"


def _describe(item: Any) -> list[str]:
    scope = item.scope.level + (f":{item.scope.value}" if item.scope.value else "")
    prov = item.provenance
    origin = ", ".join(filter(None, [
        f"trust {prov.trust}", f"run {prov.run_id}" if prov.run_id else "",
        f"step {prov.step}" if prov.step is not None else "", f"extractor {prov.extractor}" if prov.extractor else "",
        f"created {_when(prov.created_at)}",
    ]))
    c = item.counters
    return [
        f"status:      {item.status.value}" + (f" — {item.status_reason}" if item.status_reason else ""),
        f"kind:        {item.kind.value}",
        f"scope:       {scope}",
        f"version:     {item.version} (updated {_when(item.updated_at)})",
        f"provenance:  {origin}",
        *([f"derived from: {', '.join(prov.derived_from)}"] if prov.derived_from else []),
        *(f"flagged:     {_flagged_input(flagged)}" for flagged in prov.flagged_inputs),
        f"counters:    {c.uses} uses, {c.helpful} helpful, {c.harmful} harmful; usefulness {item.usefulness:.3f}",
        f"tags:        {', '.join(item.tags) or '-'}",
    ]


def _flagged_input(flagged: Any) -> str:
    """One flagged input of an item's source run, in words."""
    where = f"step {flagged.step}, " if flagged.step is not None else ""
    if flagged.category == "not_screened":
        return f"{where}{flagged.origin}: never screened"
    severity = f" ({flagged.severity.value})" if flagged.severity is not None else ""
    rule = f" [{flagged.rule_id}]" if flagged.rule_id else ""
    return f"{where}{flagged.origin}: {flagged.scanner}/{flagged.category}{severity}{rule}"


@_on_store
def run_review(args: argparse.Namespace, kernel: Any, store: Any) -> int:
    """``memory review``: the items held for review, with what was flagged and how to decide."""
    from ..learning.ci import is_held
    from ..models import MemoryStatus

    held = [item for item in store.list(status=MemoryStatus.QUARANTINED) if is_held(item)]
    if args.json:
        return _json_lines(held)
    if not held:
        print("no memory items are held for review")
        return 0
    for item in held:
        print(f"{printable(item.id[:12], one_line=True)}  {item.kind.value:10} {_one_line(item.text, 90)}")
        print(f"    {printable(item.status_reason, one_line=True)}")
        for flagged in item.provenance.flagged_inputs:
            print(f"    flagged: {printable(_flagged_input(flagged), one_line=True)}")
    print(f"\n{len(held)} item(s) held. Read each ('memory show ID'), then decide: "
          "'memory promote ID --reason ...' or 'memory reject ID --reason ...'.")
    return 0


@_on_store
def run_show(args: argparse.Namespace, kernel: Any, store: Any) -> int:
    """``memory show ID``."""
    item = store.get(resolve_id(store, args.id))
    if args.json:
        print(printable_json(item.model_dump_json(indent=2)))
        return 0
    print(printable(item.id, one_line=True))
    for line in _describe(item):
        print("  " + printable(line, one_line=True))
    print()
    print(printable(item.text))
    return 0


@_on_store
def run_history(args: argparse.Namespace, kernel: Any, store: Any) -> int:
    """``memory history ID``."""
    versions = store.history(resolve_id(store, args.id))
    if args.json:
        return _json_lines(versions)
    previous = None
    for version in versions:
        print(f"v{version.version}  {_when(version.updated_at)}  {version.status.value}"
              + (f" — {printable(version.status_reason, one_line=True)}" if version.status_reason else ""))
        if previous is None or version.text != previous.text:
            print(f"    {_one_line(version.text, 100)}")
        previous = version
    return 0


@_on_store
def run_status(args: argparse.Namespace, kernel: Any, store: Any) -> int:
    """``memory promote|reject|archive ID --reason R``: an operator decision."""
    from ..memory.lifecycle import change_status
    item_id = resolve_id(store, args.id)
    updated = change_status(store, item_id, args.target, reason=args.reason, operator=True,
                            actor=f"{_actor()} via 'purpose-agent memory'", write=kernel.write_memory)
    print(f"{printable(item_id, one_line=True)}: now {updated.status.value} (version {updated.version})")
    return 0


@_on_store
def run_rollback(args: argparse.Namespace, kernel: Any, store: Any) -> int:
    """``memory rollback ID VERSION``."""
    from ..memory.lifecycle import rollback
    item_id = resolve_id(store, args.id)
    updated = rollback(store, item_id, args.version, reason=args.reason, write=kernel.write_memory)
    print(f"{printable(item_id, one_line=True)}: version {updated.version} restores the content of version {args.version} "
          f"(status {updated.status.value})")
    return 0


@_on_store
def run_export(args: argparse.Namespace, kernel: Any, store: Any) -> int:
    """``memory export [FILE]``: to a temporary file renamed into place, so a failure leaves no half file."""
    from ..memory.transfer import export_jsonl
    if args.file == "-":
        count = export_jsonl(store, sys.stdout)
        sys.stdout.flush()
    else:
        target = Path(args.file).expanduser()
        partial = target.with_name(f".{target.name}.partial")
        try:
            with partial.open("w", encoding="utf-8", newline="\n") as fp:
                count = export_jsonl(store, fp)
                fp.flush()
                os.fsync(fp.fileno())
            os.replace(partial, target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise PurposeAgentError(f"cannot write the export to {target}: {exc.strerror or exc}") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        print(f"exported {count} items with their history to {target}", file=sys.stderr)
    return 0


def run_import(args: argparse.Namespace) -> int:
    """``memory import FILE``: checks the whole file first; writes all of it or nothing."""
    from ..memory.transfer import import_records, read_jsonl

    if args.file == "-":
        try:
            records = read_jsonl(sys.stdin, source="standard input")
        except UnicodeDecodeError as exc:
            raise PurposeAgentError(f"standard input is not UTF-8 text ({exc.reason}); is it a memory export?") from exc
    else:
        path = Path(args.file).expanduser()
        try:
            with path.open(encoding="utf-8") as fp:
                records = read_jsonl(fp, source=str(path))
        except OSError as exc:
            raise PurposeAgentError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise PurposeAgentError(f"{path} is not UTF-8 text ({exc.reason}); is it a memory export?") from exc

    def action(kernel: Any, store: Any) -> int:
        report = import_records(store, records, skip_existing=args.skip_existing, quarantine=args.quarantine,
                                write=kernel.write_memory)
        line = f"imported {report.imported} items"
        if report.skipped:
            line += f", skipped {len(report.skipped)} that already existed"
        if report.quarantined:
            line += f", quarantined {report.quarantined}"
        print(line)
        return 0

    return _with_store(args, action)


@_on_store
def run_stats(args: argparse.Namespace, kernel: Any, store: Any) -> int:
    """``memory stats``."""
    stats = getattr(store, "stats", None)
    if stats is None:
        items = store.list()
        report: dict[str, Any] = {"items": len(items), "by_status": {}}
        for item in items:
            report["by_status"][item.status.value] = report["by_status"].get(item.status.value, 0) + 1
    else:
        report = stats()
    print(json.dumps(report, indent=2))
    return 0
