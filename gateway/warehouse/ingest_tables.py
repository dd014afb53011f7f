"""Warehouse-side DDL and reads of ingestion: target tables and the bookkeeping tables.

The bookkeeping lives in the warehouse, beside the targets, because it must commit in the same
transaction as the rows it describes: a batch's landing-log rows, quarantined records,
idempotency keys and backfill checkpoint commit (or vanish) together with its target rows.

    landing      (id, contract_id, version, run_id, received_at, event_time, record)  append-only
    quarantine   (id, contract_id, version, run_id, received_at, line_number, reason, raw)
    keys         (contract_id, version, key, seen_at)        append mode's dedupe index
    checkpoints  (operation_id, batch_no, accepted, duplicates, quarantined, at)

Event times are stored as canonical UTC text (``YYYY-MM-DD HH:MM:SS.ffffff+00:00``) in the
bookkeeping tables, so ranges compare the same way on every backend.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, inspect

from gateway.warehouse.naming import INGEST_SCHEMA, SCHEMA_BACKENDS, SHADOW_SCHEMA, ingest_table_name

# Canonical contract type -> (SQLite DDL, PostgreSQL DDL).
DDL_TYPES: dict[str, tuple[str, str]] = {
    "INTEGER": ("INTEGER", "INTEGER"),
    "BIGINT": ("BIGINT", "BIGINT"),
    "DOUBLE": ("DOUBLE", "DOUBLE PRECISION"),
    "TEXT": ("TEXT", "TEXT"),
    "BOOLEAN": ("BOOLEAN", "BOOLEAN"),
    "TIMESTAMP": ("TIMESTAMP", "TIMESTAMPTZ"),
    "DATE": ("DATE", "DATE"),
    "JSON": ("JSON", "JSONB"),
}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(physical_name: str) -> str:
    schema, _, name = physical_name.rpartition(".")
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


@dataclass(frozen=True, slots=True)
class TargetColumn:
    name: str
    type: str
    nullable: bool


@dataclass(frozen=True, slots=True)
class Names:
    landing: str
    quarantine: str
    keys: str
    checkpoints: str

    @classmethod
    def for_backend(cls, backend: str) -> Names:
        return cls(*(qualified(ingest_table_name(n, backend))
                     for n in ("landing", "quarantine", "keys", "checkpoints")))


class IngestTables:
    """DDL and reads; :class:`gateway.warehouse.writer.IngestWriter` does the writes."""

    def __init__(self, engine: Engine, backend: str) -> None:
        self.engine = engine
        self.backend = backend
        self.names = Names.for_backend(backend)
        self.pg = backend in SCHEMA_BACKENDS

    def raw(self) -> Any:
        """A raw DBAPI connection (sqlite3 in autocommit mode, or psycopg) and its closer."""
        proxy = self.engine.raw_connection()
        conn: Any = proxy.driver_connection
        if not self.pg:
            conn.isolation_level = None  # explicit BEGIN IMMEDIATE / COMMIT below
        return proxy, conn

    def run_ddl(self, statements: Sequence[str]) -> None:
        proxy, conn = self.raw()
        try:
            cur = conn.cursor()
            if not self.pg:
                cur.execute("BEGIN IMMEDIATE")
            for sql in statements:
                cur.execute(sql)
            conn.commit() if self.pg else cur.execute("COMMIT")
        finally:
            proxy.close()

    def ensure_bookkeeping(self) -> None:
        n = self.names
        big = "BIGSERIAL PRIMARY KEY" if self.pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        real = "DOUBLE PRECISION" if self.pg else "REAL"
        statements = [f"CREATE SCHEMA IF NOT EXISTS {quote(INGEST_SCHEMA)}",
                      f"CREATE SCHEMA IF NOT EXISTS {quote(SHADOW_SCHEMA)}"] if self.pg else []
        statements += [
            f"CREATE TABLE IF NOT EXISTS {n.landing} (id {big}, contract_id TEXT NOT NULL, "
            f"version INTEGER NOT NULL, run_id TEXT NOT NULL, received_at {real} NOT NULL, "
            "event_time TEXT, record TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {quote('spyne_landing_range')} ON {n.landing} (contract_id, event_time)",
            f"CREATE TABLE IF NOT EXISTS {n.quarantine} (id {big}, contract_id TEXT NOT NULL, "
            f"version INTEGER NOT NULL, run_id TEXT NOT NULL, received_at {real} NOT NULL, "
            "line_number BIGINT, reason TEXT NOT NULL, raw TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {quote('spyne_quarantine_contract')} ON {n.quarantine} (contract_id, id)",
            f"CREATE TABLE IF NOT EXISTS {n.keys} (contract_id TEXT NOT NULL, version INTEGER NOT NULL, "
            f"key TEXT NOT NULL, seen_at {real} NOT NULL, PRIMARY KEY (contract_id, version, key))",
            f"CREATE TABLE IF NOT EXISTS {n.checkpoints} (operation_id TEXT NOT NULL, batch_no INTEGER NOT NULL, "
            "accepted BIGINT NOT NULL, duplicates BIGINT NOT NULL, quarantined BIGINT NOT NULL, "
            f"at {real} NOT NULL, PRIMARY KEY (operation_id, batch_no))",
        ]
        self.run_ddl(statements)

    def create_target(self, physical_name: str, columns: Sequence[TargetColumn], key: Sequence[str],
                      unique_key: bool) -> None:
        """The table a contract version writes to; upsert targets get a unique index on the key."""
        defs = ", ".join(
            f"{quote(c.name)} {DDL_TYPES[c.type][1 if self.pg else 0]}"
            + ("" if c.nullable and c.name not in key else " NOT NULL")
            for c in columns)
        statements = [f"CREATE TABLE {qualified(physical_name)} ({defs})"]
        if unique_key:
            index = quote(physical_name.rpartition(".")[2] + "__key")
            statements.append(f"CREATE UNIQUE INDEX {index} ON {qualified(physical_name)} "
                              f"({', '.join(quote(k) for k in key)})")
        self.run_ddl(statements)

    def drop_target(self, physical_name: str) -> None:
        self.run_ddl([f"DROP TABLE IF EXISTS {qualified(physical_name)}"])

    # --- reads ---------------------------------------------------------------------------

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        proxy, conn = self.raw()
        try:
            cur = conn.cursor()
            cur.execute(self.sql(sql), tuple(params))
            rows = [tuple(r) for r in cur.fetchall()]
            if self.pg:
                conn.rollback()
            return rows
        finally:
            proxy.close()

    def sql(self, text: str) -> str:
        """Statements are written with ``?`` placeholders; psycopg wants ``%s``."""
        return text.replace("?", "%s") if self.pg else text

    def count(self, physical_name: str) -> int:
        return int(self._fetch(f"SELECT COUNT(*) FROM {qualified(physical_name)}", ())[0][0])

    def checkpoints(self, operation_id: str) -> dict[int, tuple[int, int, int]]:
        rows = self._fetch(f"SELECT batch_no, accepted, duplicates, quarantined FROM {self.names.checkpoints} "
                           "WHERE operation_id = ?", (operation_id,))
        return {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}

    def has_bookkeeping(self) -> bool:
        """Whether the bookkeeping tables exist (the first contract creates them)."""
        schema, _, name = ingest_table_name("checkpoints", self.backend).rpartition(".")
        with self.engine.connect() as conn:
            return bool(inspect(conn).has_table(name, schema=schema or None))

    def quarantined(self, contract_id: str, run_id: str | None, limit: int) -> list[tuple[Any, ...]]:
        where, params = "contract_id = ?", [contract_id]
        if run_id:
            where, params = where + " AND run_id = ?", [*params, run_id]
        return self._fetch(f"SELECT id, contract_id, version, run_id, received_at, line_number, reason, raw "
                           f"FROM {self.names.quarantine} WHERE {where} ORDER BY id DESC LIMIT ?",
                           (*params, limit))

    def landing_stats(self, contract_id: str, start: str, end: str) -> tuple[int, int]:
        """How many landed records fall in [start, end), and the highest id among them."""
        row = self._fetch(f"SELECT COUNT(*), COALESCE(MAX(id), 0) FROM {self.names.landing} "
                          "WHERE contract_id = ? AND event_time >= ? AND event_time < ?",
                          (contract_id, start, end))[0]
        return int(row[0]), int(row[1])

    def landing_records(self, contract_id: str, start: str, end: str, max_id: int,
                        chunk: int = 5000) -> Iterator[tuple[int, str]]:
        """(id, raw record) of the range, in landing order, read a chunk at a time (keyset paging)."""
        after = 0
        while True:
            rows = self._fetch(f"SELECT id, record FROM {self.names.landing} WHERE contract_id = ? "
                               "AND event_time >= ? AND event_time < ? AND id > ? AND id <= ? "
                               "ORDER BY id LIMIT ?", (contract_id, start, end, after, max_id, chunk))
            if not rows:
                return
            yield from ((int(r[0]), str(r[1])) for r in rows)
            after = int(rows[-1][0])

    def stream_table(self, physical_name: str, chunk: int = 5000) -> Iterator[dict[str, Any]]:
        """Every row of a table as a dict (a backfill source), fetched a chunk at a time."""
        proxy, conn = self.raw()
        try:
            cur = conn.cursor()
            cur.execute(f"SELECT * FROM {qualified(physical_name)}")
            names = [d[0] for d in cur.description]
            while rows := cur.fetchmany(chunk):
                yield from (dict(zip(names, r, strict=True)) for r in rows)
            if self.pg:
                conn.rollback()
        finally:
            proxy.close()


