"""Built-in plugin ``checkpointers``: persist run state so a killed run can resume.

Three checkpointers, all with the same meaning of "latest": the checkpoint **saved most recently**
for a run (not the one with the highest step), so a run that rewinds to an earlier step and goes
on from there resumes from where it actually was.

- ``memory``: a dict in this process. Nothing survives the process; for tests and short runs.
- ``jsonl``: one append-only JSON Lines file per run under the directory ``path`` (option). Each
  save appends one line and ``fsync``\\ s it before returning. A process killed mid-write leaves a
  truncated last line; readers skip any line that does not parse as a complete checkpoint and
  return the newest one that does, and the next save starts on a fresh line.
- ``sqlite``: a stdlib ``sqlite3`` database at ``path`` (option), WAL journal, one row per
  ``(run_id, step)`` (saving a step again replaces its row), the most recent save wins.

Each checkpoint line/row holds the whole trajectory so far, so storage grows with the square of a
run's length; both durable formats keep every step's checkpoint so a run can also be inspected or
resumed from an earlier step.

Options (``kernel.checkpointer(name, path=...)``): ``path`` is required by ``jsonl`` (a directory)
and ``sqlite`` (a database file); parent directories are created.
"""

from __future__ import annotations

import _thread  # not threading: `plugins list` imports this module, and only the lock is needed
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from purpose_agent.hookspecs import hookimpl

if TYPE_CHECKING:  # pydantic models; imported where used so that listing plugins stays cheap
    from purpose_agent.models import Checkpoint

PURPOSE_AGENT_HOOK_API = "1.0"

#: Run ids that can be used as file names as they are; anything else is hashed.
_SAFE_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_TAIL_BLOCK = 64 * 1024


def _require_path(context: Any, name: str, what: str) -> Path:
    raw = context.options.get("path")
    if not raw:
        raise ValueError(
            f"checkpointer '{name}' needs a 'path' option ({what}); "
            f"build it with kernel.checkpointer('{name}', path='...')"
        )
    return Path(raw).expanduser()


# --------------------------------------------------------------------------- memory


class MemoryCheckpointer:
    """Keeps the latest checkpoint of each run in a dict; nothing is persisted."""

    name = "memory"

    def __init__(self) -> None:
        self._latest: dict[str, Checkpoint] = {}
        self._lock = _thread.allocate_lock()

    def save(self, checkpoint: Checkpoint) -> None:
        """Store a copy, so later changes to the caller's object do not alter the checkpoint."""
        with self._lock:
            self._latest[checkpoint.run_id] = checkpoint.model_copy(deep=True)

    def latest(self, run_id: str) -> Checkpoint | None:
        """Return a copy of the most recently saved checkpoint of ``run_id``, or ``None``."""
        with self._lock:
            found = self._latest.get(run_id)
            return found.model_copy(deep=True) if found is not None else None


# --------------------------------------------------------------------------- jsonl


def _fsync_directory(directory: Path) -> None:
    # A new file's directory entry is only durable once the directory itself is synced.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not supported on this platform/filesystem; the file data is still synced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _lines_from_the_end(path: Path) -> Iterator[bytes]:
    """Yield the file's lines newest first, reading backwards in blocks (files can be large)."""
    with open(path, "rb") as handle:
        position = handle.seek(0, os.SEEK_END)
        carry = b""
        while position > 0:
            size = min(_TAIL_BLOCK, position)
            position -= size
            handle.seek(position)
            block = handle.read(size) + carry
            parts = block.split(b"\n")
            carry = parts[0]  # may continue in the previous block
            for line in reversed(parts[1:]):
                if line:
                    yield line
        if carry:
            yield carry


class JsonlCheckpointer:
    """One append-only JSON Lines file per run in a directory; ``fsync`` after every save."""

    name = "jsonl"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = _thread.allocate_lock()

    def path_for(self, run_id: str) -> Path:
        """The file holding ``run_id``'s checkpoints (run ids unsafe as file names are hashed)."""
        if _SAFE_RUN_ID.match(run_id):
            stem = run_id
        else:
            import hashlib  # here, not at the top: `plugins list` imports this module and hashlib costs 3 ms

            # '~' never matches the safe pattern, so a hashed name cannot collide with a plain one.
            stem = "~" + hashlib.sha256(run_id.encode()).hexdigest()[:40]
        return self.directory / f"{stem}.jsonl"

    def save(self, checkpoint: Checkpoint) -> None:
        """Append the checkpoint as one line and fsync it; returns only once it is on disk."""
        line = checkpoint.model_dump_json().encode() + b"\n"
        path = self.path_for(checkpoint.run_id)
        with self._lock:
            created = not path.exists()
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                # A crash mid-write leaves a line without its newline; end it so this checkpoint
                # starts on a line of its own instead of being glued to the broken one.
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line
                view = memoryview(line)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_directory(self.directory)

    def latest(self, run_id: str) -> Checkpoint | None:
        """Return the newest complete checkpoint of ``run_id``; truncated or corrupt lines are skipped."""
        from pydantic import ValidationError

        from purpose_agent.models import Checkpoint

        path = self.path_for(run_id)
        if not path.exists():
            return None
        for line in _lines_from_the_end(path):
            try:
                checkpoint = Checkpoint.model_validate_json(line)
            except (ValidationError, ValueError):
                continue  # the tail of a write cut short by a crash; an older line is intact
            if checkpoint.run_id == run_id:
                return checkpoint
        return None


# --------------------------------------------------------------------------- sqlite


class SqliteCheckpointer:
    """Checkpoints in a SQLite database: one row per ``(run_id, step)``; the newest save wins.

    Journal ``WAL`` with ``synchronous=FULL``. WAL already makes a commit atomic and survives the
    process being killed at any point (SIGKILL, OOM) with ``NORMAL``; ``FULL`` adds an fsync of
    the log on every commit, so a save that returned also survives an OS crash or power loss.
    That is the promise of :meth:`Checkpointer.save` ("durably store"), and one fsync per agent
    step is cheap next to the model call that produced the step.
    """

    name = "sqlite"

    def __init__(self, path: Path) -> None:
        import sqlite3

        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared under a lock; several processes may use the same file (WAL).
        self._db = sqlite3.connect(path, timeout=30.0, check_same_thread=False, isolation_level=None)
        self._lock = _thread.allocate_lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS checkpoints ("
                " run_id TEXT NOT NULL, step INTEGER NOT NULL, seq INTEGER NOT NULL,"
                " saved_at REAL NOT NULL, data TEXT NOT NULL, PRIMARY KEY (run_id, step))"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS checkpoints_seq ON checkpoints (seq)")
            self._db.execute("CREATE INDEX IF NOT EXISTS checkpoints_run_seq ON checkpoints (run_id, seq)")

    def save(self, checkpoint: Checkpoint) -> None:
        """Insert or replace the row of ``(run_id, step)`` and mark it as the newest save."""
        data = checkpoint.model_dump_json()
        with self._lock:
            # seq orders saves across processes: the subquery and the write run in one
            # IMMEDIATE transaction, which holds SQLite's single write lock.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO checkpoints (run_id, step, seq, saved_at, data)"
                    " VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM checkpoints), ?, ?)"
                    " ON CONFLICT (run_id, step) DO UPDATE SET"
                    " seq = excluded.seq, saved_at = excluded.saved_at, data = excluded.data",
                    (checkpoint.run_id, checkpoint.step, checkpoint.saved_at, data),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def latest(self, run_id: str) -> Checkpoint | None:
        """Return the most recently saved checkpoint of ``run_id``, or ``None``."""
        from purpose_agent.models import Checkpoint

        with self._lock:
            row = self._db.execute(
                "SELECT data FROM checkpoints WHERE run_id = ? ORDER BY seq DESC LIMIT 1", (run_id,)
            ).fetchone()
        return Checkpoint.model_validate_json(row[0]) if row else None

    def steps(self, run_id: str) -> list[int]:
        """The steps of ``run_id`` that have a checkpoint, ascending (for inspection and resume)."""
        with self._lock:
            rows = self._db.execute("SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step", (run_id,))
            return [row[0] for row in rows]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()


# --------------------------------------------------------------------------- registration


@hookimpl
def register_checkpointers(register: Callable[..., None]) -> None:
    register("memory", lambda context: MemoryCheckpointer(), description="in-process dict; not persisted")
    register(
        "jsonl",
        lambda context: JsonlCheckpointer(_require_path(context, "jsonl", "a directory for one .jsonl file per run")),
        description="append-only JSON Lines per run, fsync per save, tolerates a torn last line",
    )
    register(
        "sqlite",
        lambda context: SqliteCheckpointer(_require_path(context, "sqlite", "the database file")),
        description="SQLite (WAL, synchronous=FULL), one row per (run_id, step), newest save wins",
    )
