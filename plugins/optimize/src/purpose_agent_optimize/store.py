"""The optimizer's one SQLite file: recorded runs, prompt packs, adoptions and shadow decisions.

Every write is one transaction, so a process killed mid-write leaves the file as it was before
that write or after it, never a torn record (SQLite's journal; WAL lets readers and the writers
of several processes share the file). Records are JSON documents with a few indexed columns.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Adoption", "Decision", "OptimizeStore", "Pack", "default_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    member_run_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    role TEXT NOT NULL,
    task_family TEXT NOT NULL,
    shadow INTEGER NOT NULL DEFAULT 0,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_role ON runs(role, task_family, recorded_at);
CREATE TABLE IF NOT EXISTS packs (
    role TEXT NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    parent INTEGER,
    origin TEXT NOT NULL,
    rationale TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    PRIMARY KEY (role, version)
);
CREATE TABLE IF NOT EXISTS adoptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role TEXT NOT NULL,
    version INTEGER,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role TEXT NOT NULL,
    baseline INTEGER,
    candidate INTEGER NOT NULL,
    adopted INTEGER NOT NULL,
    at REAL NOT NULL,
    result TEXT NOT NULL
);
"""


def default_path(state_dir: Path) -> Path:
    """Where the optimizer keeps its file under the kernel's state directory."""
    return state_dir / "optimize" / "optimize.sqlite"


@dataclass(frozen=True)
class Pack:
    """One version of a role's instructions. Version 0 does not exist: "no pack" is the baseline."""

    role: str
    version: int
    text: str
    parent: int | None
    origin: str
    rationale: str
    created_at: float


@dataclass(frozen=True)
class Adoption:
    """A change of a role's adopted pack (``version`` ``None``: back to no pack)."""

    role: str
    version: int | None
    reason: str
    at: float


@dataclass(frozen=True)
class Decision:
    """A shadow evaluation's verdict, with the figures it rests on (``result``)."""

    role: str
    baseline: int | None
    candidate: int
    adopted: bool
    at: float
    result: dict[str, Any]


class OptimizeStore:
    """Recorded runs and prompt packs in one SQLite file (thread-safe; shared by processes)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0,
                                               isolation_level=None)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.executescript(_SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise ValueError(f"cannot open the optimizer's file {self.path}: {exc}; "
                             "check the path ([plugins.optimize] directory) and its permissions") from exc
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def _query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    # ------------------------------------------------------------------ runs

    def add_runs(self, records: Sequence[dict[str, Any]]) -> None:
        """Store one team run's member records, all or none (a re-recorded member replaces itself)."""
        with self._transaction() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO runs(member_run_id, run_id, recorded_at, role, task_family, shadow, record) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r["member_run_id"], r["run_id"], r["recorded_at"], r["role"], r["task_family"],
                  1 if r.get("shadow") else 0, json.dumps(r, ensure_ascii=False)) for r in records])

    def runs(self, *, role: str | None = None, family: str | None = None, shadow: bool = False) -> list[dict[str, Any]]:
        """Recorded member runs, oldest first (shadow-evaluation runs are included only with ``shadow=True``)."""
        sql = "SELECT record FROM runs WHERE shadow <= ?"
        parameters: list[Any] = [1 if shadow else 0]
        if role is not None:
            sql += " AND role = ?"
            parameters.append(role)
        if family is not None:
            sql += " AND task_family = ?"
            parameters.append(family)
        rows = self._query(sql + " ORDER BY recorded_at, rowid", parameters)
        return [json.loads(row[0]) for row in rows]

    # ------------------------------------------------------------------ packs

    def add_pack(self, role: str, text: str, *, origin: str, rationale: str = "", parent: int | None = None) -> Pack:
        """Store a new version of ``role``'s instructions (not adopted yet)."""
        with self._transaction() as connection:
            [(latest,)] = connection.execute("SELECT COALESCE(MAX(version), 0) FROM packs WHERE role = ?", (role,)).fetchall()
            pack = Pack(role, int(latest) + 1, text, parent, origin, rationale, time.time())
            connection.execute("INSERT INTO packs VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (pack.role, pack.version, pack.text, pack.parent, pack.origin, pack.rationale,
                                pack.created_at))
        return pack

    def pack(self, role: str, version: int) -> Pack | None:
        """One version of ``role``'s instructions, or ``None``."""
        rows = self._query("SELECT role, version, text, parent, origin, rationale, created_at FROM packs "
                           "WHERE role = ? AND version = ?", (role, version))
        return Pack(*rows[0]) if rows else None

    def packs(self, role: str) -> list[Pack]:
        """Every version of ``role``'s instructions, oldest first."""
        rows = self._query("SELECT role, version, text, parent, origin, rationale, created_at FROM packs "
                           "WHERE role = ? ORDER BY version", (role,))
        return [Pack(*row) for row in rows]

    def roles(self) -> list[str]:
        """Every role with recorded runs or packs."""
        rows = self._query("SELECT role FROM runs UNION SELECT role FROM packs ORDER BY 1")
        return [row[0] for row in rows]

    # ------------------------------------------------------------------ adoption

    def adopt(self, role: str, version: int | None, reason: str) -> Adoption:
        """Make ``version`` the pack ``role`` runs with (``None``: no pack); history is kept."""
        if version is not None and self.pack(role, version) is None:
            raise ValueError(f"role '{role}' has no pack version {version}; `purpose-agent optimize status` lists them")
        adoption = Adoption(role, version, reason, time.time())
        with self._transaction() as connection:
            connection.execute("INSERT INTO adoptions(role, version, reason, at) VALUES (?, ?, ?, ?)",
                               (role, version, reason, adoption.at))
        return adoption

    def adoptions(self, role: str) -> list[Adoption]:
        """``role``'s adoption history, oldest first."""
        rows = self._query("SELECT role, version, reason, at FROM adoptions WHERE role = ? ORDER BY id", (role,))
        return [Adoption(*row) for row in rows]

    def adopted(self, role: str) -> Pack | None:
        """The pack ``role`` runs with now, or ``None``."""
        rows = self._query("SELECT version FROM adoptions WHERE role = ? ORDER BY id DESC LIMIT 1", (role,))
        if not rows or rows[0][0] is None:
            return None
        return self.pack(role, int(rows[0][0]))

    def rollback(self, role: str, reason: str = "rolled back on request") -> Adoption:
        """Return ``role`` to the pack it ran with before the current one (or to no pack).

        The history is a stack of adoptions: rolling back re-adopts the version in effect before
        the latest adoption that is still in effect, so repeated rollbacks walk further back."""
        current = self.adopted(role)
        if current is None:
            raise ValueError(f"role '{role}' runs with no adopted pack, so there is nothing to roll back")
        # The adoptions in effect form a stack: an adoption pushes, a rollback pops.
        effective: list[int | None] = []
        for adoption in self.adoptions(role):
            if adoption.reason.startswith("rollback:"):
                if effective:
                    effective.pop()
            else:
                effective.append(adoption.version)
        previous = effective[-2] if len(effective) >= 2 else None
        return self.adopt(role, previous, f"rollback: {reason} (from version {current.version})")

    # ------------------------------------------------------------------ decisions

    def add_decision(self, role: str, baseline: int | None, candidate: int, adopted: bool,
                     result: dict[str, Any]) -> Decision:
        """Record a shadow evaluation's verdict."""
        decision = Decision(role, baseline, candidate, adopted, time.time(), result)
        with self._transaction() as connection:
            connection.execute("INSERT INTO decisions(role, baseline, candidate, adopted, at, result) "
                               "VALUES (?, ?, ?, ?, ?, ?)",
                               (role, baseline, candidate, 1 if adopted else 0, decision.at, json.dumps(result)))
        return decision

    def decisions(self, role: str) -> list[Decision]:
        """``role``'s shadow verdicts, oldest first."""
        rows = self._query("SELECT role, baseline, candidate, adopted, at, result FROM decisions "
                           "WHERE role = ? ORDER BY id", (role,))
        return [Decision(r[0], r[1], r[2], bool(r[3]), r[4], json.loads(r[5])) for r in rows]
