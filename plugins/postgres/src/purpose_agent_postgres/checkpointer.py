"""The checkpointer on PostgreSQL: any worker can resume a run another one saved.

One row per ``(run_id, step)`` (saving a step again replaces its row) in ``checkpoints`` of the
configured schema, as the SQLite checkpointer keeps them. "Latest" means the checkpoint saved
most recently: each save takes the next value of the sequence ``checkpoint_saves``, and
``latest`` returns the run's row with the highest. A save returns once its transaction has
committed (the server's ``synchronous_commit`` decides how durable that is; on by default).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .connection import ConnectionSettings, PooledConnections, PostgresError

if TYPE_CHECKING:
    from purpose_agent.models import Checkpoint


class PostgresCheckpointer(PooledConnections):
    """Checkpoints in PostgreSQL, shared by every worker that points at the same schema."""

    name = "postgres"

    def __init__(self, settings: ConnectionSettings) -> None:
        from .connection import connect
        from .schema import migrate

        self.settings = settings
        self.schema = settings.schema
        self.where = settings.where()
        self._init_pool()
        conn = connect(settings)
        try:
            migrate(conn, self.schema, self.where)
        finally:
            conn.close()

    def _run(self, sql: str, params: tuple[Any, ...], *, fetch: bool = False) -> Any:
        import psycopg

        from .connection import connection_failure

        try:
            with self._get_pool().connection() as conn, conn.transaction():
                cursor = conn.execute(sql, params)
                return cursor.fetchall() if fetch else None
        except psycopg.OperationalError as exc:
            raise PostgresError(connection_failure(self.settings, exc)) from None

    def save(self, checkpoint: Checkpoint) -> None:
        """Insert or replace the row of ``(run_id, step)`` and make it the run's newest save."""
        table = f"{self.schema}.checkpoints"
        self._run(
            f"INSERT INTO {table} (run_id, step, seq, saved_at, data) "
            f"VALUES (%s, %s, nextval('{self.schema}.checkpoint_saves'), %s, %s) "
            "ON CONFLICT (run_id, step) DO UPDATE SET seq = excluded.seq, saved_at = excluded.saved_at, "
            "data = excluded.data",
            (checkpoint.run_id, checkpoint.step, checkpoint.saved_at, checkpoint.model_dump_json()),
        )

    def latest(self, run_id: str) -> Checkpoint | None:
        """The most recently saved checkpoint of ``run_id``, or ``None``."""
        from purpose_agent.models import Checkpoint

        rows = self._run(f"SELECT data FROM {self.schema}.checkpoints WHERE run_id = %s ORDER BY seq DESC LIMIT 1",
                         (run_id,), fetch=True)
        return Checkpoint.model_validate_json(rows[0][0]) if rows else None

    def steps(self, run_id: str) -> list[int]:
        """The steps of ``run_id`` that have a checkpoint, ascending."""
        rows = self._run(f"SELECT step FROM {self.schema}.checkpoints WHERE run_id = %s ORDER BY step",
                         (run_id,), fetch=True)
        return [row[0] for row in rows]

    def close(self) -> None:
        """Close this process's connections."""
        self._release_pool()


def open_checkpointer(context: Any) -> PostgresCheckpointer:
    """The factory behind ``kernel.checkpointer("postgres", ...)``; ``dedup`` does not apply to it."""
    from .connection import resolve

    return PostgresCheckpointer(resolve(context, "checkpointer"))
