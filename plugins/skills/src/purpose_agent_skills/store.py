"""``SkillStore``: skill versions, their status history, test runs and uses, in one SQLite file.

Why not the kernel's memory store: its promoted items are retrieved into every run as lessons (a
skill is a callable thing, not advice), an item's history is snapshots of one current item (a
skill's versions live side by side, each with its own status that changes later: promoted, then
retired, then restored), and success is counted per version. So the plugin keeps its own file in
the kernel's state directory, built on the same rules as memory: a version's card never changes
once written, every status change is appended to a history with its reason, and each card says
who wrote it.

Each thread has its own connection (WAL), so the tool (called from a run's worker threads), the
observer and the CLI can share the file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .card import SkillCard, card_from_data
from .errors import SkillError

#: Where a version is in skill CI. ``candidate``: added, not yet through CI; ``held``: an immune
#: scanner flagged it; ``rejected``: its tests failed or replay found a regression; ``promoted``:
#: in use (several promoted versions compete); ``retired``: superseded by newer promoted versions;
#: ``rolled_back``: taken out of use by ``rollback``.
Status = Literal["candidate", "held", "rejected", "promoted", "retired", "rolled_back"]
STATUSES: tuple[str, ...] = ("candidate", "held", "rejected", "promoted", "retired", "rolled_back")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, card TEXT NOT NULL, content_hash TEXT NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL,
    updated_at REAL NOT NULL, promoted_at REAL, PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS status_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, version INTEGER NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS test_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, version INTEGER NOT NULL,
    kind TEXT NOT NULL, at REAL NOT NULL, passed INTEGER NOT NULL, report TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS uses (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL, at REAL NOT NULL,
    arguments TEXT NOT NULL, tool_ok INTEGER NOT NULL, run_id TEXT NOT NULL DEFAULT '',
    run_score REAL, success INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS uses_by_version ON uses (name, version);
"""


@dataclass(frozen=True)
class SkillVersion:
    """One stored version of a skill, with its status and measured success."""

    name: str
    version: int
    card: SkillCard
    status: str
    reason: str
    created_at: float
    updated_at: float
    promoted_at: float | None
    uses: int = 0
    successes: int = 0

    @property
    def failures(self) -> int:
        """Uses that did not succeed."""
        return self.uses - self.successes

    def summary(self) -> dict[str, Any]:
        """Plain data for ``--json`` and ``show``."""
        return {
            "name": self.name, "version": self.version, "status": self.status, "reason": self.reason,
            "kind": self.card.kind, "author": self.card.provenance.author, "by": self.card.provenance.by,
            "uses": self.uses, "successes": self.successes, "created_at": self.created_at,
            "promoted_at": self.promoted_at,
        }


@dataclass(frozen=True)
class SkillUse:
    """One use of a skill version: its arguments and whether it succeeded."""

    id: str
    name: str
    version: int
    arguments: dict[str, Any]
    tool_ok: bool
    success: bool
    run_id: str
    run_score: float | None


class SkillStore:
    """The skills' SQLite file (created on first use)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        # A version's card never changes, so each is validated once per store object.
        self._cards: dict[tuple[str, int], SkillCard] = {}

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, in a transaction. One connection per thread, kept open:
        closing the last connection checkpoints the WAL, which costs a sync per operation."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30)
            connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            # WAL with NORMAL sync: a power cut may lose the last uses counted, never corrupt the file.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(_SCHEMA)
            self._local.connection = connection
        with connection:
            yield connection

    def close(self) -> None:
        """Close this thread's connection (another operation opens a new one)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # ------------------------------------------------------------------ versions

    def add(self, card: SkillCard) -> SkillVersion:
        """Store ``card`` as the next version of its skill, status ``candidate``.

        Raises :class:`SkillError` if an earlier version has the same content (nothing changed).
        """
        digest = card.content_hash()
        now = time.time()
        with self._connect() as db:
            same = db.execute("SELECT version FROM versions WHERE name = ? AND content_hash = ?",
                              (card.name, digest)).fetchone()
            if same is not None:
                raise SkillError(f"skill '{card.name}' version {same[0]} already has this content; change the card "
                                 "to add a new version")
            latest = db.execute("SELECT MAX(version) FROM versions WHERE name = ?", (card.name,)).fetchone()[0]
            version = (latest or 0) + 1
            db.execute("INSERT INTO versions VALUES (?, ?, ?, ?, 'candidate', '', ?, ?, NULL)",
                       (card.name, version, json.dumps(card.to_data()), digest, now, now))
            db.execute("INSERT INTO status_history (name, version, status, reason, at) VALUES (?, ?, ?, ?, ?)",
                       (card.name, version, "candidate", "added", now))
        return self.get(card.name, version)

    def set_status(self, name: str, version: int, status: Status, reason: str) -> SkillVersion:
        """Change a version's status (appended to its history with ``reason``)."""
        if status not in STATUSES:
            raise ValueError(f"unknown skill status {status!r}")
        now = time.time()
        with self._connect() as db:
            promoted = ", promoted_at = ?" if status == "promoted" else ""
            values: tuple[Any, ...] = (status, reason, now, *((now,) if promoted else ()), name, version)
            db.execute(f"UPDATE versions SET status = ?, reason = ?, updated_at = ?{promoted} "
                       "WHERE name = ? AND version = ?", values)
            db.execute("INSERT INTO status_history (name, version, status, reason, at) VALUES (?, ?, ?, ?, ?)",
                       (name, version, status, reason, now))
        return self.get(name, version)

    def get(self, name: str, version: int | None = None) -> SkillVersion:
        """A version (the newest when ``version`` is ``None``); :class:`SkillError` if there is none."""
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none"
            raise SkillError(f"no skill named '{name}' (stored: {known}); add one with 'purpose-agent skills add FILE'")
        if version is None:
            return versions[-1]
        for stored in versions:
            if stored.version == version:
                return stored
        raise SkillError(f"skill '{name}' has no version {version} (versions: "
                         f"{', '.join(str(v.version) for v in versions)})")

    def versions(self, name: str) -> list[SkillVersion]:
        """Every version of a skill, oldest first, with its use counts."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT v.name, v.version, v.card, v.status, v.reason, v.created_at, v.updated_at, v.promoted_at, "
                "COUNT(u.id), COALESCE(SUM(u.success), 0) FROM versions v LEFT JOIN uses u "
                "ON u.name = v.name AND u.version = v.version WHERE v.name = ? GROUP BY v.name, v.version "
                "ORDER BY v.version", (name,)).fetchall()
        return [self._version(row) for row in rows]

    def _card(self, name: str, version: int, text: str) -> SkillCard:
        card = self._cards.get((name, version))
        if card is None:
            card = self._cards[(name, version)] = card_from_data(json.loads(text),
                                                                 where=f"stored skill {name} v{version}")
        return card

    def names(self) -> list[str]:
        """Every skill name, sorted."""
        with self._connect() as db:
            return [row[0] for row in db.execute("SELECT DISTINCT name FROM versions ORDER BY name")]

    def promoted(self, name: str | None = None) -> list[SkillVersion]:
        """The promoted versions (of one skill, or of all), oldest promotion first."""
        names = [name] if name is not None else self.names()
        found = [v for n in names for v in self.versions(n) if v.status == "promoted"]
        return sorted(found, key=lambda v: (v.name, v.promoted_at or 0.0, v.version))

    def history(self, name: str) -> list[dict[str, Any]]:
        """Every status change of every version of a skill, oldest first (append-only)."""
        with self._connect() as db:
            rows = db.execute("SELECT version, status, reason, at FROM status_history WHERE name = ? ORDER BY id",
                              (name,)).fetchall()
        return [{"version": v, "status": s, "reason": r, "at": at} for v, s, r, at in rows]

    def _version(self, row: Any) -> SkillVersion:
        name, version, card, status, reason, created, updated, promoted_at, uses, successes = row
        return SkillVersion(name, version, self._card(name, version, card), status, reason, created, updated,
                            promoted_at, int(uses), int(successes))

    # ------------------------------------------------------------------ test runs

    def record_test_run(self, name: str, version: int, kind: str, passed: bool, report: dict[str, Any]) -> None:
        """Keep the outcome of one test or replay run (``kind`` ``test`` or ``replay``)."""
        with self._connect() as db:
            db.execute("INSERT INTO test_runs (name, version, kind, at, passed, report) VALUES (?, ?, ?, ?, ?, ?)",
                       (name, version, kind, time.time(), int(passed), json.dumps(report)))

    def test_runs(self, name: str, version: int) -> list[dict[str, Any]]:
        """The recorded test and replay runs of a version, oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT kind, at, passed, report FROM test_runs WHERE name = ? AND version = ? "
                              "ORDER BY id", (name, version)).fetchall()
        return [{"kind": k, "at": at, "passed": bool(p), "report": json.loads(r)} for k, at, p, r in rows]

    # ------------------------------------------------------------------ uses

    def record_use(self, name: str, version: int, arguments: dict[str, Any], ok: bool) -> str:
        """Count one use of a version, a success when ``ok``; returns the use's id."""
        use_id = uuid.uuid4().hex
        with self._connect() as db:
            db.execute("INSERT INTO uses (id, name, version, at, arguments, tool_ok, success) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (use_id, name, version, time.time(), json.dumps(arguments), int(ok), int(ok)))
        return use_id

    def record_run_outcome(self, use_id: str, run_id: str, score: float, success: bool) -> None:
        """Replace a use's outcome with the result of the run it served (the run's critic score)."""
        with self._connect() as db:
            db.execute("UPDATE uses SET run_id = ?, run_score = ?, success = ? WHERE id = ?",
                       (run_id, score, int(success), use_id))

    def uses(self, name: str, version: int | None = None, *, limit: int = 100) -> list[SkillUse]:
        """The newest uses of a skill (or of one version), newest first."""
        query = "SELECT id, name, version, arguments, tool_ok, success, run_id, run_score FROM uses WHERE name = ?"
        values: tuple[Any, ...] = (name,)
        if version is not None:
            query += " AND version = ?"
            values += (version,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY at DESC LIMIT ?", (*values, limit)).fetchall()
        return [SkillUse(i, n, v, json.loads(a), bool(t), bool(s), r, score) for i, n, v, a, t, s, r, score in rows]
