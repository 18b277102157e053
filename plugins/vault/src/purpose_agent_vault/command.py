"""``purpose-agent vault``: index a directory, search it, list what was flagged, ask it.

::

    purpose-agent vault index docs/ [--pattern '**/*.md'] [--json]
    purpose-agent vault search "how do I rotate keys" [--dir docs/] [-k 5] [--mode lexical] [--json]
    purpose-agent vault search --flagged [--dir docs/]
    purpose-agent vault ask "What is our refund policy?" [--dir docs/] [--model groq:…] [--json]

Without ``--dir``, ``search`` and ``ask`` use the directory last given to ``vault index`` (with
none, they say so rather than index the current directory unasked). Every command brings the index up to date first (only changed files are
re-read). Document text is printed through ``purpose_agent.terminal_text.printable``: it is
untrusted, and must not drive the operator's terminal.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from purpose_agent.hookspecs import BaseCommand
from purpose_agent.interfaces import printable, printable_json


class VaultCommand(BaseCommand):
    """``purpose-agent vault``."""

    help = "Index a directory of documents, search it, list flagged chunks, ask it with citations."

    def add_action_arguments(self, parsers: dict[str, argparse.ArgumentParser]) -> None:
        """Declare the arguments of ``index``, ``search`` and ``ask``."""
        index, search, ask = parsers.values()
        index.add_argument("dir", type=Path, help="the directory of documents")
        index.add_argument("--pattern", action="append", default=None, metavar="GLOB",
                           help="only files matching this glob relative to DIR, like '**/*.md' (repeatable)")
        search.add_argument("query", nargs="?", default=None, help="what to look for")
        search.add_argument("--flagged", action="store_true",
                            help="list the chunks the immune scanners flagged (kept out of search and answers)")
        search.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
        search.add_argument("--mode", choices=["hybrid", "lexical", "dense"], default=None,
                            help="search by words, by meaning, or both fused (default: [plugins.vault] mode)")
        ask.add_argument("question")
        ask.add_argument("--model", default=None, help="provider:model (default: the configured chain)")
        for each in (search, ask):
            each.add_argument("--dir", type=Path, default=None,
                              help="the vault's directory (default: the last one indexed)")
        for each in (index, search, ask):
            each.add_argument("--index", type=Path, default=None, metavar="FILE",
                              help="the index file (default: one per directory under the state directory)")
            each.add_argument("--json", action="store_true", help="end with one JSON line")

    def run(self, args: argparse.Namespace) -> int:
        """Run the action on the vault, brought up to date; 2 for unusable input (no such directory, an
        empty query)."""
        kernel = self.kernel_for(args)
        if args.action == "ask" and not args.question.strip():
            print("purpose-agent vault: ask needs a question", file=sys.stderr)
            return 2
        if args.index is not None and not str(args.index).strip():
            print("purpose-agent vault: --index needs a file path (or leave it out for the default)", file=sys.stderr)
            return 2
        directory = args.dir if args.action == "index" else (args.dir or last_indexed(kernel.state_dir()))
        if directory is None:
            # Never index the current directory unasked: it may be a home directory or a checkout.
            print("purpose-agent vault: no vault has been indexed yet; run 'purpose-agent vault index DIR' first, "
                  "or name the directory with --dir", file=sys.stderr)
            return 2
        try:
            vault = self._vault(kernel, directory, args)
        except ValueError as exc:
            print(f"purpose-agent vault: {printable(exc, one_line=True)}", file=sys.stderr)
            return 2
        except (OSError, sqlite3.Error) as exc:
            print(f"purpose-agent vault: cannot open the index {printable(args.index or 'file', one_line=True)} "
                  f"({printable(exc, one_line=True)}); give --index a writable file path", file=sys.stderr)
            return 2
        try:
            report = vault.refresh()
            if args.action == "index":
                remember_indexed(vault.root, kernel.state_dir())
            elif not args.json and report.unreadable:
                print(f"({len(report.unreadable)} file(s) could not be read; run 'vault index' to see which)")
            return self.dispatch(args, vault, kernel, report)
        finally:
            vault.close()

    def _vault(self, kernel: Any, directory: Path, args: argparse.Namespace) -> Any:
        from . import vault_options
        from .vault import Vault

        options = vault_options(self.context.settings)
        if getattr(args, "mode", None):
            options["mode"] = args.mode
        return Vault(directory, pattern=getattr(args, "pattern", None), index_path=args.index, kernel=kernel,
                     **options)

    def do_index(self, args: argparse.Namespace, vault: Any, kernel: Any, report: Any) -> int:
        """index DIR (only files changed since the last time are re-read)"""
        if args.json:
            print(printable_json(json.dumps({
                "added": report.added, "changed": report.changed, "removed": report.removed,
                "unchanged": report.unchanged, "chunks": report.chunks, "flagged": report.flagged,
                "unreadable": [{"file": f, "reason": r} for f, r in report.unreadable],
                "screened": report.screened, "seconds": round(report.seconds, 3), **vault.stats()})))
            return 0
        print(printable(f"{vault.root}: {report.summary()}"))
        stats = vault.stats()
        print(printable(f"holds {stats['files']} files, {stats['chunks']} chunks ({stats['flagged']} flagged); "
                        f"search: {stats['mode']}, embedder: {stats['embedder'] or 'none'}; index: {stats['index']}"))
        for file, reason in report.unreadable:
            print(printable(f"  not indexed: {file}: {reason}"))
        if not report.screened:
            print("warning: no immune scanner is active, so no chunk was screened; install purpose-agent-immune")
        return 0

    def do_search(self, args: argparse.Namespace, vault: Any, kernel: Any, report: Any) -> int:
        """the passages best matching a query, with file:start-end"""
        if args.flagged:
            flagged = vault.flagged()
            if args.json:
                print(printable_json(json.dumps([{"citation": f.citation, "heading": f.heading, "reasons": f.reasons,
                                                  "text": f.text} for f in flagged])))
                return 0
            if not flagged:
                print("no chunk was flagged")
            for chunk in flagged:
                print(printable(f"{chunk.citation}  {chunk.heading}", one_line=True))
                print(printable(f"  flagged: {chunk.reasons}", one_line=True))
                print(printable("  " + _snippet(chunk.text), one_line=True))
            return 0
        if not args.query or not args.query.strip():
            print("purpose-agent vault: search needs a query (or --flagged)", file=sys.stderr)
            return 2
        if args.k < 1:
            print(f"purpose-agent vault: -k must be at least 1, not {args.k}", file=sys.stderr)
            return 2
        try:
            passages = vault.search(args.query, k=args.k)
        except ValueError as exc:
            print(f"purpose-agent vault: {printable(exc, one_line=True)}", file=sys.stderr)
            return 2
        if args.json:
            print(printable_json(json.dumps([
                {"citation": p.citation, "heading": p.heading, "score": p.score, "relevance": p.relevance,
                 "relevant": p.relevant, "text": p.text} for p in passages])))
            return 0
        if not passages:
            print("no passage matches")
        for rank, passage in enumerate(passages, start=1):
            relevance = f", relevance {passage.relevance:.2f}" if passage.relevance is not None else ""
            print(printable(f"{rank}. {passage.citation}  {passage.heading}", one_line=True)
                  + f"  (score {passage.score:.4f}{relevance})")
            print(printable("   " + _snippet(passage.text), one_line=True))
        return 0

    def do_ask(self, args: argparse.Namespace, vault: Any, kernel: Any, report: Any) -> int:
        """answer a question from the documents, citing file:start-end"""
        import purpose_agent as pa

        team = pa.purpose(f"Answer questions from the documents in {vault.root.name}", model=args.model,
                          knowledge=vault, kernel=kernel, tools=[], memory=False, critic=None)
        answer = team.ask(args.question)
        if args.json:
            print(printable_json(json.dumps({"answer": str(answer), "supported": getattr(answer, "supported", None),
                                             "citations": list(getattr(answer, "citations", ()))})))
            return 0
        print(printable(answer))
        return 0


def _snippet(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def _last_file(state_dir: Path) -> Path:
    return state_dir / "vaults" / "last-indexed"


def last_indexed(state_dir: Path) -> Path | None:
    """The directory last given to ``vault index`` (recorded under the kernel's ``state_dir()``),
    if it still exists."""
    try:
        path = Path(_last_file(state_dir).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return path if path.is_dir() else None


def remember_indexed(root: Path, state_dir: Path) -> None:
    """Record ``root`` as the directory ``search`` and ``ask`` use without ``--dir``."""
    last = _last_file(state_dir)
    try:
        last.parent.mkdir(parents=True, exist_ok=True)
        last.write_text(str(root), encoding="utf-8")
    except OSError:
        pass  # only a convenience; --dir still works
