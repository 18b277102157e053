"""The tables, in one PostgreSQL schema (namespace, option ``schema``), and their migrations.

``MIGRATIONS[n - 1]`` takes the schema from version ``n - 1`` to ``n``; ``{s}`` stands for the
schema name (checked to be a plain identifier before it reaches SQL). Released entries are never
edited; a change of layout is a new entry at the end. :func:`migrate` applies the missing
entries in one transaction under an advisory lock, so workers starting together migrate once,
and a failed step leaves the schema as it was (PostgreSQL's DDL is transactional).
"""

from __future__ import annotations

import time
from typing import Any

#: The text-search configuration of the ``tsv`` column and of queries: English, Snowball
#: stemming ("installs" finds "install"), as the SQLite store's Porter tokenizer does.
TEXT_SEARCH_CONFIG = "english"

#: The ``tsv`` of a row from its text and its tags (JSON list) — one expression, used on insert,
#: update and by the integrity check, so they cannot drift apart.
TSV_SQL = (f"setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', {{text}}), 'A') || "
           f"setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', "
           f"coalesce((SELECT string_agg(value, ' ') FROM jsonb_array_elements_text(({{tags}})::jsonb)), '')), 'B')")

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # v1: current items, their append-only history, the counter marks update() merges by, checkpoints.
    (
        """CREATE TABLE {s}.items (
            seq bigserial NOT NULL UNIQUE,   -- insertion order: ties in ranking and listing
            id text PRIMARY KEY,
            kind text NOT NULL,
            status text NOT NULL,
            text text NOT NULL,
            scope text NOT NULL,             -- canonical JSON {"level", "value"}
            scope_level text NOT NULL,       -- the same, as columns the scope filter can use
            scope_value text NOT NULL,
            version integer NOT NULL,
            provenance text NOT NULL,        -- canonical JSON
            uses bigint NOT NULL CHECK (uses >= 0),
            helpful bigint NOT NULL CHECK (helpful >= 0),
            harmful bigint NOT NULL CHECK (harmful >= 0),
            usefulness double precision NOT NULL,
            tags text NOT NULL,              -- canonical JSON list of strings
            status_reason text NOT NULL,
            updated_at double precision NOT NULL,
            content_hash text NOT NULL,      -- MemoryItem.content_hash: the exact-duplicate key
            tsv tsvector NOT NULL            -- text (label A) and tags (label B), see TSV_SQL
        )""",
        "CREATE INDEX items_tsv ON {s}.items USING gin (tsv)",
        "CREATE INDEX items_by_status ON {s}.items (status, updated_at)",
        "CREATE INDEX items_by_updated ON {s}.items (updated_at)",
        "CREATE INDEX items_by_hash ON {s}.items (content_hash)",
        """CREATE TABLE {s}.item_versions (
            item_id text NOT NULL,
            version integer NOT NULL,
            data text NOT NULL,              -- the whole item at this version, canonical JSON
            written_at double precision NOT NULL,
            PRIMARY KEY (item_id, version)
        )""",
        """CREATE FUNCTION {s}.item_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'item_versions is append-only: write a new version instead';
        END $$""",
        """CREATE TRIGGER item_versions_append_only BEFORE UPDATE OR DELETE ON {s}.item_versions
            FOR EACH ROW EXECUTE FUNCTION {s}.item_versions_append_only()""",
        # The counters and usefulness an item had at each of its updated_at stamps: update() finds
        # the state its caller read by the item's updated_at and adds only the caller's change.
        """CREATE TABLE {s}.counter_marks (
            item_id text NOT NULL,
            stamp double precision NOT NULL,
            uses bigint NOT NULL,
            helpful bigint NOT NULL,
            harmful bigint NOT NULL,
            usefulness double precision NOT NULL,
            PRIMARY KEY (item_id, stamp)
        )""",
        "CREATE SEQUENCE {s}.checkpoint_saves",
        """CREATE TABLE {s}.checkpoints (
            run_id text NOT NULL,
            step integer NOT NULL,
            seq bigint NOT NULL,             -- from checkpoint_saves: the newest save has the highest
            saved_at double precision NOT NULL,
            data text NOT NULL,
            PRIMARY KEY (run_id, step)
        )""",
        "CREATE INDEX checkpoints_by_run_seq ON {s}.checkpoints (run_id, seq)",
    ),
    # v2: search in each process. ``changed_xid``: the transaction that last wrote the row's text,
    # tags, status, scope or vector, so a process holding search statistics (lexical.py) and vectors
    # (dense.py) in memory re-reads only rows changed since its last look; ``tokens`` (BM25's
    # document length) and ``tsv_hash`` (has the row's words changed?) are kept by a trigger from
    # ``tsv``. An item's vector lives in its row with the embedder's model id (another model's
    # counts as none); a write that changes the text clears it in the same statement.
    (
        "ALTER TABLE {s}.items ADD COLUMN vector_model text, ADD COLUMN vector bytea, "
        "ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id(), "
        "ADD COLUMN tokens integer NOT NULL DEFAULT 0, ADD COLUMN tsv_hash bigint NOT NULL DEFAULT 0",
        """CREATE FUNCTION {s}.items_search_facts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.tokens := (SELECT COALESCE(sum(cardinality(positions)), 0) FROM unnest(NEW.tsv));
            NEW.tsv_hash := hashtextextended(NEW.tsv::text, 0);
            RETURN NEW;
        END $$""",
        """CREATE TRIGGER items_search_facts BEFORE INSERT OR UPDATE OF tsv ON {s}.items
            FOR EACH ROW EXECUTE FUNCTION {s}.items_search_facts()""",
        "UPDATE {s}.items SET tsv = tsv",
        "CREATE INDEX items_by_changed_xid ON {s}.items (changed_xid)",
        "CREATE INDEX items_not_embedded ON {s}.items (seq) WHERE vector IS NULL",
    ),
)

LATEST_SCHEMA = len(MIGRATIONS)


def advisory_key(schema: str, purpose: str) -> str:
    """The text of an advisory lock (hashed by ``hashtextextended`` in SQL), unique per schema."""
    return f"purpose-agent/{schema}/{purpose}"


def migrate(conn: Any, schema: str, where: str) -> int:
    """Bring ``schema`` to :data:`LATEST_SCHEMA` in one transaction; return the version it had."""
    from .connection import PostgresError

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (advisory_key(schema, "migrate"),))
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {schema}.schema_version "
                     "(version integer PRIMARY KEY, applied_at double precision NOT NULL)")
        found = int(conn.execute(f"SELECT COALESCE(MAX(version), 0) FROM {schema}.schema_version").fetchone()[0])
        if found > LATEST_SCHEMA:
            raise PostgresError(
                f"the schema {schema} at {where} has version {found}, newer than this purpose-agent-postgres "
                f"understands (up to {LATEST_SCHEMA}); upgrade purpose-agent-postgres, or use another schema"
            )
        for version in range(found + 1, LATEST_SCHEMA + 1):
            for step in MIGRATIONS[version - 1]:
                conn.execute(step.replace("{s}", schema))
            conn.execute(f"INSERT INTO {schema}.schema_version (version, applied_at) VALUES (%s, %s)",
                         (version, time.time()))
    return found
