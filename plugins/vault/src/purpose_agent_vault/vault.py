"""The vault: a directory of documents, chunked, screened and indexed for search with citations.

::

    from purpose_agent_vault import Vault

    vault = Vault.from_directory("./docs/")          # indexes what changed since last time
    for passage in vault.search("refund policy", k=5):
        print(passage.citation, passage.heading, passage.text[:80])

The index is one SQLite file (default: ``$XDG_STATE_HOME/purpose-agent/vaults/<dir>-<hash>.sqlite``)
holding the search engine's tables (``purpose_agent_sqlite.SearchIndex``: BM25 and vectors) and the
vault's own: each file's content hash and chunk ids, and the chunks the immune scanners flagged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from purpose_agent.interfaces import Passage, TextIndex

from .chunking import (
    MAX_CHARS,
    OVERLAP_CHARS,
    PDF_SUFFIXES,
    SUPPORTED_SUFFIXES,
    Chunk,
    UnreadableDocument,
    chunk_document,
)

#: Files larger than this are skipped (a vault is for documents, not data dumps or disk images).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: A hybrid hit counts as support for an answer when the question's cosine with the chunk reaches
#: this (all-MiniLM-L6-v2). Measured by tests/benchmarks/bench_vault.py on the Python FAQ:
#: see docs/knowledge.md, "Saying there is no support".
DEFAULT_MIN_RELEVANCE = 0.35
#: Without an embedder, a passage supports an answer when it holds this share of the question's
#: content words (words of three letters or more, not in :data:`_STOP_WORDS`).
MIN_WORD_OVERLAP = 0.5
_WORD = re.compile(r"\w{3,}")
_STOP_WORDS = frozenset(
    "the and for are but not you all any can had her was one our out has him his how its who did yes use "
    "what which when where why with this that from they will would there their been have were does into "
    "than then them these those your about could should".split())
#: Findings at or above this severity keep a chunk out of the index (the bar at which memory CI
#: blocks a lesson and a run flags a tool output).
FLAG_SEVERITY = "high"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vault_files (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, chunk_ids TEXT NOT NULL, problem TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS vault_flagged (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, start_line INTEGER NOT NULL, end_line INTEGER NOT NULL,
    heading TEXT NOT NULL, text TEXT NOT NULL, reasons TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS vault_flagged_path ON vault_flagged(path);
CREATE TABLE IF NOT EXISTS vault_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class RefreshReport:
    """What one :meth:`Vault.refresh` did."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks: int = 0
    flagged: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    screened: bool = True
    seconds: float = 0.0

    def summary(self) -> str:
        """One line: files added, changed, removed and unchanged; chunks indexed and flagged."""
        text = (f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
                f"{self.unchanged} unchanged; {self.chunks} chunks indexed, {self.flagged} flagged "
                f"({self.seconds:.2f} s)")
        if self.unreadable:
            text += f"; {len(self.unreadable)} unreadable"
        if not self.screened:
            text += "; NOT screened: no immune scanner is active"
        return text


@dataclass(frozen=True)
class FlaggedChunk:
    """A chunk the immune scanners flagged at ingestion: kept out of search and answers."""

    id: str
    source: str
    start: int
    end: int
    heading: str
    text: str
    reasons: str

    @property
    def citation(self) -> str:
        """``file:start-end``."""
        return f"{self.source}:{self.start}-{self.end}"


class Vault:
    """A searchable, screened index of the documents under ``root``.

    Args:
        root: the directory.
        pattern: which files, as globs relative to ``root`` (``"**/*.md"``, or several); default:
            every file with a suffix the vault reads (Markdown, reStructuredText, HTML, PDF, text,
            Python and other source files). Hidden files and directories are skipped.
        index_path: the SQLite file; default under the state directory, one per ``root``.
        kernel: the kernel whose scanners screen chunks and whose embedder embeds them (default:
            ``purpose_agent.Kernel.load()``).
        embedder: ``"default"`` (the kernel's, or none when none is installed), an embedder name,
            an embedder object, or ``None`` for lexical search only.
        mode: ``"hybrid"``, ``"lexical"`` or ``"dense"`` (the default search mode).
        min_relevance: the cosine a passage needs to count as support (see :data:`DEFAULT_MIN_RELEVANCE`).
        ignore_scanners: ids of scanners whose findings do not flag a document chunk (every
            active scanner still reads every chunk); for a scanner meant for lessons that flags
            ordinary documents (``url-guard`` on any link, say). Empty by default.
    """

    def __init__(self, root: str | os.PathLike[str], *, pattern: str | Sequence[str] | None = None,
                 index_path: str | os.PathLike[str] | None = None, kernel: Any = None, embedder: Any = "default",
                 mode: str = "hybrid", min_relevance: float = DEFAULT_MIN_RELEVANCE, max_chars: int = MAX_CHARS,
                 overlap_chars: int = OVERLAP_CHARS, ignore_scanners: Sequence[str] = ()) -> None:
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise ValueError(f"{root} is not a directory; give Vault the directory that holds your documents")
        if mode not in ("hybrid", "lexical", "dense"):
            raise ValueError(f"mode must be 'hybrid', 'lexical' or 'dense', not {mode!r}")
        self.patterns = [pattern] if isinstance(pattern, str) else list(pattern or [])
        self._matchers = [_glob_regex(p) for p in self.patterns]
        self._kernel = kernel
        self.index_path = (Path(index_path).expanduser() if index_path
                           else default_index_path(self.root, self.kernel.state_dir()))
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        self.embedder = self._choose_embedder(embedder)
        self.mode = mode if self.embedder is not None else "lexical"
        self.min_relevance = min_relevance
        self.max_chars = max_chars
        self.overlap_chars = overlap_chars
        self.ignore_scanners = frozenset(ignore_scanners)
        self.refreshed = False
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.index_path, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        from purpose_agent_sqlite import SearchIndex

        self.index: TextIndex = SearchIndex(str(self.index_path), name="chunks", embedder=self.embedder)

    @classmethod
    def from_directory(cls, path: str | os.PathLike[str], pattern: str | Sequence[str] | None = None, *,
                       refresh: bool = True, **options: Any) -> Vault:
        """The vault of ``path``, brought up to date (only files whose content changed are re-read)."""
        vault = cls(path, pattern=pattern, **options)
        if refresh:
            vault.refresh()
        return vault

    # ------------------------------------------------------------------ the kernel's parts

    @property
    def kernel(self) -> Any:
        """The kernel that screens and embeds (loaded on first use when none was given)."""
        if self._kernel is None:
            import purpose_agent

            self._kernel = purpose_agent.Kernel.load()
        return self._kernel

    def _choose_embedder(self, embedder: Any) -> Any:
        if embedder is None or embedder is False:
            return None
        if not isinstance(embedder, str):
            return embedder
        from purpose_agent.errors import UnknownComponentError

        try:
            return self.kernel.embedder(None if embedder == "default" else embedder)
        except UnknownComponentError:
            if embedder != "default":
                raise
            return None  # no embedder installed: lexical search still works

    # ------------------------------------------------------------------ indexing

    def files(self) -> Iterator[Path]:
        """The files under ``root`` this vault reads, in a stable order."""
        for path, _ in self._walk():
            yield Path(path)

    def _walk(self) -> Iterator[tuple[str, str]]:
        """``(path, path relative to root with '/')`` of each file the vault reads. Plain strings:
        pathlib's parsing was most of the time of a refresh that found nothing changed."""
        root = str(self.root)
        index = str(self.index_path.resolve())  # and its -wal and -shm files
        for directory, subdirs, names in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            prefix = "" if directory == root else directory[len(root) + 1:].replace(os.sep, "/") + "/"
            for name in sorted(names):
                if name.startswith("."):
                    continue
                relative = prefix + name
                if self._matchers:
                    if not any(m.fullmatch(relative) for m in self._matchers):
                        continue
                elif os.path.splitext(name)[1].lower() not in SUPPORTED_SUFFIXES:
                    continue
                path = os.path.join(directory, name)
                if path.startswith(index):
                    continue
                yield path, relative

    def refresh(self) -> RefreshReport:
        """Bring the index up to date: new and changed files (by content hash) are chunked, screened
        and indexed; chunks of removed files leave the index. Returns what was done."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> RefreshReport:
        started = time.perf_counter()
        report = RefreshReport()
        known = {path: (digest, json.loads(ids)) for path, digest, ids in
                 self._db.execute("SELECT path, sha256, chunk_ids FROM vault_files")}
        seen: set[str] = set()
        pending: list[tuple[str, str, list[Chunk]]] = []  # (path, digest, chunks)
        for path, relative in self._walk():
            try:
                if os.stat(path).st_size > MAX_FILE_BYTES:
                    report.unreadable.append((relative, f"larger than {MAX_FILE_BYTES // 2**20} MiB"))
                    continue
                with open(path, "rb") as file:
                    data = file.read()
            except OSError as exc:
                report.unreadable.append((relative, f"cannot be read: {exc.strerror or exc}"))
                continue
            seen.add(relative)
            digest = hashlib.sha256(data).hexdigest()
            previous = known.get(relative)
            if previous is not None and previous[0] == digest:
                report.unchanged += 1
                continue
            (report.changed if previous is not None else report.added).append(relative)
            try:
                if os.path.splitext(path)[1].lower() not in PDF_SUFFIXES and b"\x00" in data[:8192]:
                    raise UnreadableDocument("looks binary (a NUL byte in its first 8 KiB)")
                chunks = chunk_document(Path(path), data, max_chars=self.max_chars, overlap_chars=self.overlap_chars)
            except UnreadableDocument as exc:
                report.unreadable.append((relative, str(exc)))
                chunks = []
            pending.append((relative, digest, chunks))
        removed = sorted(set(known) - seen)
        report.removed = removed
        stale = [chunk_id for path in removed for chunk_id in known[path][1]]
        stale += [chunk_id for path, _, _ in pending if path in known for chunk_id in known[path][1]]
        if stale:
            self.index.delete(stale)
        with self._db:
            for path in removed:
                self._db.execute("DELETE FROM vault_files WHERE path = ?", (path,))
            for path in [*removed, *(p for p, _, _ in pending)]:
                self._db.execute("DELETE FROM vault_flagged WHERE path = ?", (path,))
        self._index_pending(pending, report)
        self.refreshed = True
        report.seconds = time.perf_counter() - started
        return report

    def _index_pending(self, pending: list[tuple[str, str, list[Chunk]]], report: RefreshReport) -> None:
        """Screen, index and record the chunks of new and changed files, in batches."""
        from purpose_agent.interfaces import IndexedText

        batch: list[tuple[str, str, list[Chunk]]] = []
        size = 0
        for entry in pending:
            batch.append(entry)
            size += len(entry[2])
            if size >= 512:
                self._index_batch(batch, report, IndexedText)
                batch, size = [], 0
        if batch:
            self._index_batch(batch, report, IndexedText)

    def _index_batch(self, batch: list[tuple[str, str, list[Chunk]]], report: RefreshReport, indexed_text: Any) -> None:
        entries = [(path, n, chunk) for path, _, chunks in batch for n, chunk in enumerate(chunks)]
        verdicts = self._screen([chunk for _, _, chunk in entries], report)
        clean = []
        flagged_rows = []
        ids_of: dict[str, list[str]] = {path: [] for path, _, _ in batch}
        for (path, n, chunk), reasons in zip(entries, verdicts, strict=True):
            chunk_id = f"{path}#{n}"
            if reasons:
                flagged_rows.append((chunk_id, path, chunk.start, chunk.end, chunk.heading, chunk.text, reasons))
                continue
            ids_of[path].append(chunk_id)
            searchable = f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text
            clean.append(indexed_text(id=chunk_id, text=searchable, metadata={
                "file": path, "start": chunk.start, "end": chunk.end, "heading": chunk.heading,
                "body_at": len(searchable) - len(chunk.text)}))
        if clean:
            self.index.upsert(clean)
        report.chunks += len(clean)
        report.flagged += len(flagged_rows)
        problems = dict(report.unreadable)
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vault_flagged VALUES (?, ?, ?, ?, ?, ?, ?)", flagged_rows)
            self._db.executemany("INSERT OR REPLACE INTO vault_files VALUES (?, ?, ?, ?)",
                                 [(path, digest, json.dumps(ids_of[path]), problems.get(path, ""))
                                  for path, digest, _ in batch])

    def _screen(self, chunks: Sequence[Chunk], report: RefreshReport) -> list[str]:
        """Per chunk: ``""`` when clean, else the scanners' reasons. Scanned as ``document`` text; a
        scanner that errs or times out flags (the kernel fails closed)."""
        if not chunks:
            return []
        kernel = self.kernel
        if not kernel.scanners() and not kernel.screening_refusal():
            report.screened = False
            return ["" for _ in chunks]
        from purpose_agent.models import ScanRequest, Severity

        bar = Severity(FLAG_SEVERITY).rank
        results = kernel.scan_many([ScanRequest(text=chunk.text, source="document") for chunk in chunks])
        verdicts = []
        for findings in results:
            blocking = [f for f in findings if f.severity.rank >= bar and f.scanner not in self.ignore_scanners]
            verdicts.append("; ".join(f"{f.scanner}/{f.category}: {f.explanation}" for f in blocking[:3]))
        return verdicts

    # ------------------------------------------------------------------ reading

    def search(self, query: str, k: int = 5, *, mode: str | None = None) -> list[Passage]:
        """The ``k`` passages best matching ``query``, best first (flagged chunks are never among
        them). Each says whether it is relevant enough to support an answer (``relevant``)."""
        if not query.strip():
            raise ValueError("search needs a non-blank query")
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        if not self.refreshed:
            self.refresh()
        mode = mode or self.mode
        if mode != "lexical" and self.embedder is None:
            raise ValueError(f"{mode} search needs an embedder and this vault has none; use mode='lexical' "
                             "or install purpose-agent-minilm")
        hits = self.index.search(query, k=k, mode=mode)
        relevance = self._relevance(query, [hit.text for hit in hits])
        passages = []
        for hit, similarity in zip(hits, relevance, strict=True):
            meta = hit.metadata
            passages.append(Passage(
                text=hit.text[int(meta.get("body_at", 0)):], source=str(meta["file"]), start=int(meta["start"]),
                end=int(meta["end"]), heading=str(meta.get("heading", "")), score=float(hit.score), id=hit.id,
                relevance=similarity,
                relevant=similarity >= (self.min_relevance if self.embedder is not None else MIN_WORD_OVERLAP)))
        return passages

    def _relevance(self, query: str, texts: Sequence[str]) -> list[float]:
        """How well each text matches the query: the cosine of their vectors (from the kernel's
        cache), or without an embedder the share of the query's content words the text holds."""
        if not texts:
            return []
        if self.embedder is None:
            wanted = _content_words(query)
            if not wanted:
                return [0.0 for _ in texts]
            return [len(wanted & _content_words(text)) / len(wanted) for text in texts]
        vectors = self.embedder.embed([query, *texts])
        return [float(vectors[0] @ row) for row in vectors[1:]]

    def flagged(self) -> list[FlaggedChunk]:
        """The chunks the scanners flagged at ingestion, by file and line."""
        if not self.refreshed:
            self.refresh()
        rows = self._db.execute("SELECT id, path, start_line, end_line, heading, text, reasons FROM vault_flagged "
                                "ORDER BY path, start_line")
        return [FlaggedChunk(*row) for row in rows]

    def stats(self) -> dict[str, Any]:
        """Files, chunks and flagged chunks held, the index file, the embedder and the mode."""
        files = self._db.execute("SELECT COUNT(*) FROM vault_files").fetchone()[0]
        flagged = self._db.execute("SELECT COUNT(*) FROM vault_flagged").fetchone()[0]
        return {"root": str(self.root), "index": str(self.index_path), "files": files, "chunks": len(self.index),
                "flagged": flagged, "mode": self.mode,
                "embedder": getattr(self.embedder, "model_id", None)}

    def as_tool(self, name: str = "search_documents", *, k: int = 5) -> VaultSearchTool:
        """A tool the actor can call to search this vault; its output is ``document`` text, which the
        runner screens and marks as data."""
        return VaultSearchTool(self, name=name, k=k)

    def close(self) -> None:
        """Close the index file."""
        close = getattr(self.index, "close", None)
        if close is not None:
            close()
        self._db.close()

    def __repr__(self) -> str:
        return f"Vault({str(self.root)!r}, mode={self.mode!r})"


class VaultSearchTool:
    """The actor's view of a vault: ``search_documents(query)`` returns cited passages."""

    def __init__(self, vault: Vault, *, name: str = "search_documents", k: int = 5) -> None:
        self.vault = vault
        self.name = name
        self.k = k
        self.description = (f"Search the documents in {vault.root.name}/ and return the best passages, each "
                            "headed by its citation file:start-end. Cite those locations in your answer.")
        self.parameters = {"type": "object", "properties": {
            "query": {"type": "string", "description": "what to look for, in words the documents would use"},
            "k": {"type": "integer", "minimum": 1, "maximum": 20, "description": f"passages to return (default {k})"},
        }, "required": ["query"]}

    def run(self, arguments: dict[str, Any]) -> Any:
        """Search; failures come back as an observation, never an exception."""
        from purpose_agent.models import Observation, TextOrigin

        origin = TextOrigin(kind="document", name=f"vault:{self.vault.root.name}")
        query = str(arguments.get("query") or "")
        try:
            k = int(arguments.get("k") or self.k)
            passages = self.vault.search(query, k=max(1, min(k, 20)))
        except (ValueError, TypeError, sqlite3.Error) as exc:
            return Observation(ok=False, error=f"search failed: {exc}", origin=origin)
        if not passages:
            return Observation(ok=True, output="No passage matches that query.", origin=origin)
        output = "\n\n".join(format_passage(p) for p in passages)
        return Observation(ok=True, output=output, origin=origin,
                           data={"citations": [p.citation for p in passages]})


def format_passage(passage: Passage) -> str:
    """``[file:start-end] Heading > Path`` then the passage's text."""
    heading = f" {passage.heading}" if passage.heading else ""
    return f"[{passage.citation}]{heading}\n{passage.text}"


def _content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP_WORDS}


def default_index_path(root: Path, state_dir: Path) -> Path:
    """``<state_dir>/vaults/<dir name>-<hash of the absolute path>.sqlite`` (the kernel's
    ``state_dir()``: ``$XDG_STATE_HOME/purpose-agent``)."""
    digest = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", root.name)[:40] or "root"
    return state_dir / "vaults" / f"{name}-{digest}.sqlite"


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob over relative POSIX paths as a regular expression: ``**/`` is any number of
    directories, ``*`` and ``?`` stay within one name, ``[...]`` is a character class."""
    if not pattern or pattern.startswith("/"):
        raise ValueError(f"pattern {pattern!r} must be a glob relative to the vault's directory, like '**/*.md'")
    out = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:[^/]+/)*")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        elif pattern[index] == "[" and "]" in pattern[index + 2:]:
            close = pattern.index("]", index + 2)
            body = pattern[index + 1:close]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            index = close + 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out))
