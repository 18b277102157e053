"""Where the calibrated critic records a model critic's score next to the grounded outcome.

One SQLite file (WAL), by default ``critic-calibration.sqlite`` in the kernel's state directory.
Each judgement is one row written in its own transaction, so a process killed mid-run loses at
most the row it was writing and never leaves a half-written one; several processes may record at
once (WAL, a busy timeout). A state judged twice (the same run, the same number of steps, the same
answer) is recorded once, so re-scoring a finished run does not count it twice.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

FILE_NAME = "critic-calibration.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS judgements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at REAL NOT NULL,
    model TEXT NOT NULL,
    family TEXT NOT NULL,
    raw_score REAL NOT NULL CHECK (raw_score >= 0 AND raw_score <= 10),
    outcome INTEGER NOT NULL CHECK (outcome IN (0, 1)),
    grounded_by TEXT NOT NULL,
    state_key TEXT NOT NULL,
    UNIQUE (model, family, state_key, grounded_by)
);
CREATE INDEX IF NOT EXISTS judgements_by_key ON judgements (model, family, id);
"""


class CalibrationStore:
    """Judgements (model, family, raw score, grounded outcome) in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=10.0, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed row survives the process being killed (not a power cut).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ValueError(
                f"cannot open the critic calibration store {self.path} ({exc}); set [plugins.critics] "
                "calibration_path to a writable file"
            ) from exc
        self._lock = threading.Lock()

    def record(self, *, model: str, family: str, raw_score: float, outcome: bool, grounded_by: str,
               state_key: str) -> bool:
        """Record one judgement; return False if this state was already recorded."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO judgements (recorded_at, model, family, raw_score, outcome, grounded_by, state_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), model, family, float(raw_score), int(bool(outcome)), grounded_by, state_key),
            )
            return cursor.rowcount == 1

    def samples(self, model: str, family: str, *, limit: int = 500) -> tuple[list[float], list[int]]:
        """The most recent ``limit`` (raw scores, outcomes) of ``model`` on ``family``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT raw_score, outcome FROM judgements WHERE model = ? AND family = ? ORDER BY id DESC LIMIT ?",
                (model, family, limit),
            ).fetchall()
        rows.reverse()
        return [r[0] for r in rows], [r[1] for r in rows]

    def keys(self) -> list[tuple[str, str, int]]:
        """Every (model, family, number of judgements) recorded, sorted."""
        with self._lock:
            rows = self._db.execute(
                "SELECT model, family, COUNT(*) FROM judgements GROUP BY model, family ORDER BY model, family"
            ).fetchall()
        return [(str(m), str(f), int(n)) for m, f, n in rows]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()
