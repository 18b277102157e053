"""The kernel's vector cache: embeddings kept by ``(model id, sha256 of the text)`` in SQLite.

:meth:`purpose_agent.kernel.Kernel.embedder` wraps every embedder in a :class:`CachedEmbedder`,
so a text is embedded once per model, across runs and processes. The key holds the embedder's
``model_id``: a new model (or new weights) simply misses and re-embeds lazily; old rows stay
until the file is deleted (it is only a cache, deleting it any time is safe).

The file (default ``$XDG_CACHE_HOME/purpose-agent/embeddings.sqlite``) is shared by every
process of the user: WAL mode and a busy timeout let them read and write at once, and a write
that cannot get the lock in time is skipped rather than waited for. The cache is never fatal: a
corrupt file is deleted and rebuilt (with a warning), and a file that cannot be opened at all
(read-only home, full disk) turns caching off for that embedder while embedding goes on.

This module imports numpy and sqlite3; the kernel imports it only when an embedder is first used.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import PluginError

CACHE_FILE_NAME = "embeddings.sqlite"
#: Bumped when the table layout changes; a file with another version is emptied, not migrated.
SCHEMA_VERSION = 1
#: How long a writer waits for another process's lock before skipping its write.
BUSY_TIMEOUT_MS = 2000
# SQLite's default limit on ``?`` parameters is 32766 on current builds but 999 on old ones.
_LOOKUP_CHUNK = 500
_CORRUPTION = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
#: Vectors of recent short calls kept in memory per embedder (queries; 1.5 KB each with MiniLM),
#: and the most texts a call may have to count as short.
RECENT_VECTORS = 256
RECENT_CALL_TEXTS = 4


def default_cache_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/purpose-agent/embeddings.sqlite`` (``~/.cache/...`` by default)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".cache")
    return Path(base) / "purpose-agent" / CACHE_FILE_NAME


def text_digest(text: str) -> bytes:
    """The cache key of a text: sha256 of its UTF-8 bytes (lone surrogates kept, not refused)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _is_corruption(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    if name:
        return name in _CORRUPTION or name.startswith("SQLITE_CORRUPT")
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


class VectorCache:
    """A SQLite table of float32 vectors keyed by ``(model_id, digest)``; thread-safe.

    Every method swallows SQLite trouble: a corrupt file is rebuilt once, anything else turns the
    cache off (``enabled`` becomes ``False``, ``problems`` says why). Callers treat a miss and a
    disabled cache alike.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.enabled = True
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._inode: int | None = None
        self._rebuilt = False

    # ------------------------------------------------------------------ opening

    def _connect(self) -> sqlite3.Connection | None:
        if self._connection is not None or not self.enabled:
            return self._connection
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None
            )
            try:
                self._prepare(connection)
            except BaseException:
                connection.close()
                raise
        except sqlite3.Error as exc:
            self._recover(exc, "opening")
            return None
        except OSError as exc:
            self._disable(f"cannot create {self.path.parent}: {exc.strerror or exc}")
            return None
        self._connection = connection
        try:
            self._inode = os.stat(self.path).st_ino
        except OSError:
            self._inode = None
        return connection

    def _prepare(self, connection: sqlite3.Connection) -> None:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Reading user_version is the first real read: a file that is not SQLite fails here.
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        try:
            connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            pass  # another process holds the lock while switching, or the filesystem lacks shared memory
        connection.execute("PRAGMA synchronous = NORMAL")
        if version not in (0, SCHEMA_VERSION):
            connection.execute("DROP TABLE IF EXISTS vectors")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS vectors ("
            " model_id TEXT NOT NULL, digest BLOB NOT NULL, vector BLOB NOT NULL,"
            " PRIMARY KEY (model_id, digest)) WITHOUT ROWID"
        )
        if version != SCHEMA_VERSION:
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # ------------------------------------------------------------------ trouble

    def _disable(self, why: str) -> None:
        self.enabled = False
        self.problems.append(why)
        warnings.warn(
            f"the embedding cache {self.path} is off for this process ({why}); embeddings are computed "
            "without it. Check that the directory is writable, or set [runtime] embedding_cache to "
            "another path (or false).",
            RuntimeWarning,
            stacklevel=4,
        )

    def _recover(self, exc: sqlite3.Error, doing: str) -> None:
        """Rebuild a corrupt file once; turn the cache off for anything else."""
        self._close_quietly()
        if not _is_corruption(exc) or self._rebuilt:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower():
                return  # another process is busy; this call misses, the next one may not
            self._disable(f"{doing} failed: {exc}")
            return
        self._rebuilt = True
        self._remove_file()
        self.problems.append(f"{doing} found a corrupt file ({exc}); it was deleted and rebuilt")
        warnings.warn(
            f"the embedding cache {self.path} was corrupt ({exc}); it was deleted and is being rebuilt "
            "(vectors are re-computed as needed).",
            RuntimeWarning,
            stacklevel=4,
        )

    def _remove_file(self) -> None:
        # Delete only the file this connection saw: if another process already replaced it with
        # a fresh one, that one stays.
        try:
            current = os.stat(self.path).st_ino
        except OSError:
            current = None
        if current is not None and self._inode is not None and current != self._inode:
            return
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _close_quietly(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except sqlite3.Error:
                pass
        self._connection = None

    # ------------------------------------------------------------------ use

    def get(self, model_id: str, digests: Iterable[bytes], dimension: int) -> dict[bytes, np.ndarray]:
        """Return the cached vectors among ``digests`` for ``model_id`` (missing ones are absent)."""
        wanted = list(dict.fromkeys(digests))
        found: dict[bytes, np.ndarray] = {}
        size = dimension * 4
        with self._lock:
            for attempt in range(2):
                connection = self._connect()
                if connection is None:
                    return found
                try:
                    for start in range(0, len(wanted), _LOOKUP_CHUNK):
                        chunk = wanted[start : start + _LOOKUP_CHUNK]
                        rows = connection.execute(
                            f"SELECT digest, vector FROM vectors WHERE model_id = ? AND digest IN "
                            f"({', '.join('?' * len(chunk))})",
                            (model_id, *chunk),
                        ).fetchall()
                        for digest, blob in rows:
                            if len(blob) == size:  # a row of another width is a stale model; miss
                                found[bytes(digest)] = np.frombuffer(blob, dtype=np.float32)
                    return found
                except sqlite3.Error as exc:
                    found.clear()
                    self._recover(exc, "reading")
                    if attempt or not self.enabled:
                        return found
        return found

    def put(self, model_id: str, rows: Sequence[tuple[bytes, np.ndarray]]) -> None:
        """Store vectors; an existing row for the same key is kept (same text, same model)."""
        if not rows:
            return
        payload = [(model_id, digest, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for digest, v in rows]
        with self._lock:
            for attempt in range(2):
                connection = self._connect()
                if connection is None:
                    return
                try:
                    with connection:  # one transaction: all rows or none
                        connection.execute("BEGIN IMMEDIATE")
                        connection.executemany(
                            "INSERT OR IGNORE INTO vectors (model_id, digest, vector) VALUES (?, ?, ?)", payload
                        )
                    return
                except sqlite3.Error as exc:
                    self._recover(exc, "writing")
                    if attempt or not self.enabled:
                        return

    def close(self) -> None:
        """Close the connection (a later call reopens it)."""
        with self._lock:
            self._close_quietly()


class CachedEmbedder:
    """An embedder behind the vector cache; what :meth:`Kernel.embedder` returns.

    ``embed`` looks every text up by ``(model_id, sha256)``, embeds only the misses (each
    distinct text once) and stores them. ``inner`` is the plugin's embedder; ``hits`` and
    ``misses`` count texts since creation (for benchmarks and tests).
    """

    def __init__(self, inner: Any, cache: VectorCache | None) -> None:
        self.inner = inner
        self.cache = cache
        self.hits = 0
        self.misses = 0
        # the vectors of the last few short calls (queries), in memory: a query repeated within a
        # run (retrieval asks again for the same task) skips the SQLite round trip
        self._recent: OrderedDict[tuple[str, bytes], np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """The wrapped embedder's model id (read each time: it changes with the weights)."""
        return str(self.inner.model_id)

    @property
    def dimension(self) -> int:
        """The wrapped embedder's vector length."""
        return int(self.inner.dimension)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return unit vectors for ``texts`` (float32, ``(len(texts), dimension)``), cached."""
        texts = list(texts)
        dimension = self.dimension
        out = np.empty((len(texts), dimension), dtype=np.float32)
        if not texts:
            return out
        model_id = self.model_id
        positions: dict[bytes, list[int]] = {}
        for index, text in enumerate(texts):
            positions.setdefault(text_digest(text), []).append(index)
        found: dict[bytes, np.ndarray] = {}
        short = self.cache is not None and len(positions) <= RECENT_CALL_TEXTS
        if short:
            with self._recent_lock:
                for digest in positions:
                    vector = self._recent.get((model_id, digest))
                    if vector is not None:
                        self._recent.move_to_end((model_id, digest))
                        found[digest] = vector
        if self.cache is not None and len(found) < len(positions):
            found.update(self.cache.get(model_id, [d for d in positions if d not in found], dimension))
        if short:
            self._remember(model_id, found)
        missing: list[bytes] = []
        for digest, indexes in positions.items():
            vector = found.get(digest)
            if vector is None:
                missing.append(digest)
            else:
                out[indexes] = vector
                self.hits += len(indexes)
        if not missing:
            return out
        computed = np.asarray(self.inner.embed([texts[positions[d][0]] for d in missing]), dtype=np.float32)
        if computed.shape != (len(missing), dimension):
            raise PluginError(
                f"embedder '{model_id}' returned an array of shape {computed.shape} for {len(missing)} "
                f"text(s); expected ({len(missing)}, {dimension}). The plugin breaks the Embedder "
                "contract; run purpose_agent_conformance.EmbedderConformance (purpose-agent-conformance) against it."
            )
        for digest, vector in zip(missing, computed, strict=True):
            out[positions[digest]] = vector
            self.misses += len(positions[digest])
        if self.cache is not None:
            self.cache.put(model_id, list(zip(missing, computed, strict=True)))
        if short:
            self._remember(model_id, dict(zip(missing, computed, strict=True)))
        return out

    def _remember(self, model_id: str, vectors: Mapping[bytes, np.ndarray]) -> None:
        with self._recent_lock:
            for digest, vector in vectors.items():
                self._recent[(model_id, digest)] = vector
                self._recent.move_to_end((model_id, digest))
            while len(self._recent) > RECENT_VECTORS:
                self._recent.popitem(last=False)
