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

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.errors import InvalidContract
from gateway.warehouse.contract import Warehouse
from gateway.warehouse.errors import is_driver_error
from gateway.warehouse.ingest_dialect import IngestDialect, ingest_dialect, qualified, quote
from gateway.warehouse.naming import INGEST_SCHEMA, SHADOW_SCHEMA, ingest_table_name, is_shadow_space

__all__ = ["IngestTables", "Names", "TargetColumn", "qualified", "quote"]


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
    """DDL and reads; :class:`gateway.warehouse.writer.IngestWriter` does the writes.

    Built lazily per call from the warehouse, so a warehouse that cannot ingest answers
    ``WAREHOUSE_UNSUPPORTED`` when ingestion is asked for, not when the gateway starts.
    """

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.backend = warehouse.backend
        self.names = Names.for_backend(warehouse.backend)

    @property
    def dialect(self) -> IngestDialect:
        return ingest_dialect(self.warehouse.capabilities.engine, self.warehouse.ingest_variant())

    @contextlib.contextmanager
    def raw(self, *, writing: bool = True) -> Iterator[tuple[Any, Any]]:
        """The writer's DBAPI connection and a cursor on it (autocommit off, or explicit
        transactions where the dialect says so); ``writing=False`` for reads of the bookkeeping,
        which need not wait for a writer."""
        with self.warehouse.write_connection(exclusive=writing) as conn:
            cur = conn.cursor() if hasattr(conn, "cursor") and self.backend != "duckdb" else conn
            yield conn, cur

    def sql(self, text: str) -> str:
        return self.dialect.sql(text)

    def run_ddl(self, statements: Sequence[str]) -> None:
        d = self.dialect
        with self.raw() as (conn, cur):
            d.start(cur)
            try:
                for sql in statements:
                    cur.execute(sql)
            except BaseException:
                d.rollback(conn, cur)
                raise
            d.commit(conn, cur)

    def ensure_bookkeeping(self) -> None:
        n, d = self.names, self.dialect
        real, book, options = d.real, d.book, d.table_options
        statements = [f"CREATE SCHEMA IF NOT EXISTS {quote(INGEST_SCHEMA)}",
                      f"CREATE SCHEMA IF NOT EXISTS {quote(SHADOW_SCHEMA)}"] if d.schemas else []
        serial: dict[str, str] = {}
        for table in ("landing", "quarantine"):
            sequence = ingest_table_name(f"{table}_id", self.backend)
            if d.sequences:
                statements.append(f"CREATE SEQUENCE IF NOT EXISTS {qualified(sequence)}")
            serial[table] = d.serial_column(sequence)
        indexes = {n.landing: ("spyne_landing_range", "contract_id, event_time"),
                   n.quarantine: ("spyne_quarantine_contract", "contract_id, id")}

        def create(table: str, defs: str) -> list[str]:
            # An engine without CREATE INDEX IF NOT EXISTS declares the index with the table.
            index = indexes.get(table)
            if index and d.inline_indexes:
                defs += f", INDEX {quote(index[0])} ({index[1]})"
            out = [f"CREATE TABLE IF NOT EXISTS {table} ({defs}){options}"]
            if index and not d.inline_indexes:
                out.append(f"CREATE INDEX IF NOT EXISTS {quote(index[0])} ON {table} ({index[1]})")
            return out

        statements += [
            *create(n.landing, f"id {serial['landing']}, contract_id {book['id']} NOT NULL, "
                               f"version INTEGER NOT NULL, run_id {book['id']} NOT NULL, "
                               f"received_at {real} NOT NULL, event_time {book['time']}, "
                               f"record {book['text']} NOT NULL"),
            *create(n.quarantine, f"id {serial['quarantine']}, contract_id {book['id']} NOT NULL, "
                                  f"version INTEGER NOT NULL, run_id {book['id']} NOT NULL, "
                                  f"received_at {real} NOT NULL, line_number BIGINT, "
                                  f"reason {book['text']} NOT NULL, raw {book['text']} NOT NULL"),
            # "key" is quoted: MySQL reserves the word.
            *create(n.keys, f"contract_id {book['id']} NOT NULL, version INTEGER NOT NULL, "
                            f"\"key\" {book['key']} NOT NULL, seen_at {real} NOT NULL, "
                            "PRIMARY KEY (contract_id, version, \"key\")"),
            *create(n.checkpoints, f"operation_id {book['id']} NOT NULL, batch_no INTEGER NOT NULL, "
                                   "accepted BIGINT NOT NULL, duplicates BIGINT NOT NULL, "
                                   f"quarantined BIGINT NOT NULL, \"at\" {real} NOT NULL, "
                                   "PRIMARY KEY (operation_id, batch_no)"),
        ]
        self.run_ddl(statements)

    def create_target(self, physical_name: str, columns: Sequence[TargetColumn], key: Sequence[str],
                      unique_key: bool) -> None:
        """The table a contract version writes to; upsert targets get a unique index on the key."""
        d = self.dialect
        name = physical_name.rpartition(".")[2]
        if d.max_identifier is not None and len(name) > d.max_identifier:
            over = len(name) - d.max_identifier
            raise InvalidContract(
                f"The table's name is {over} character(s) too long for this warehouse: its versions are "
                f"stored as {name!r}, and the warehouse allows {d.max_identifier} characters. Use a shorter "
                "table name.", problems=[f"table name too long by {over} character(s) for this warehouse"])
        key_types = [c.type for c in columns if c.name in key]
        defs = ", ".join(
            f"{quote(c.name)} {d.column_type(c.type, key_types if c.name in key else None)}"
            + ("" if c.nullable and c.name not in key else " NOT NULL")
            for c in columns)
        index, keys = quote(name + "__key"), ", ".join(quote(k) for k in key)
        if unique_key and d.inline_indexes:  # one statement: DDL there commits one at a time
            # Index names are per table there, so a fixed one never makes the name too long.
            defs += f", UNIQUE INDEX {quote('spyne_key')} ({keys})"
        statements = [f"CREATE TABLE {qualified(physical_name)} ({defs}){d.table_options}"]
        if unique_key and not d.inline_indexes:
            statements.append(f"CREATE UNIQUE INDEX {index} ON {qualified(physical_name)} ({keys})")
        self.run_ddl(statements)

    def drop_target(self, physical_name: str) -> None:
        self.run_ddl([f"DROP TABLE IF EXISTS {qualified(physical_name)}"])

    # --- reads ---------------------------------------------------------------------------

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.raw(writing=False) as (conn, cur):
            cur.execute(self.sql(sql), tuple(params))
            rows = [tuple(r) for r in cur.fetchall()]
            if not self.dialect.statements:
                conn.rollback()
            return rows

    def count(self, physical_name: str) -> int:
        return int(self._fetch(f"SELECT COUNT(*) FROM {qualified(physical_name)}", ())[0][0])

    def checkpoints(self, operation_id: str) -> dict[int, tuple[int, int, int]]:
        rows = self._fetch(f"SELECT batch_no, accepted, duplicates, quarantined FROM {self.names.checkpoints} "
                           "WHERE operation_id = ?", (operation_id,))
        return {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}

    def has_bookkeeping(self) -> bool:
        """Whether the bookkeeping tables exist (the first contract creates them)."""
        try:
            self._fetch(f"SELECT COUNT(*) FROM {self.names.checkpoints} WHERE 1 = 0", ())
        except Exception as exc:  # the engine's "no such table", in whichever driver's words
            if is_driver_error(exc):
                return False
            raise
        return True

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
        # A gateway-managed table on an engine whose TIMESTAMP holds UTC wall time (MySQL's
        # DATETIME) gives its times back without a zone: they are UTC, said so. An external
        # table's naive times stay naive (their zone is unknown: the validator quarantines them).
        utc = self.dialect.naive_times and is_shadow_space(physical_name)
        with self.raw(writing=False) as (conn, cur):
            cur.execute(f"SELECT * FROM {qualified(physical_name)}")
            names = [d[0] for d in cur.description]
            while rows := cur.fetchmany(chunk):
                for r in rows:
                    row = dict(zip(names, r, strict=True))
                    if utc:
                        row = {k: v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v
                               for k, v in row.items()}
                    yield row
            if not self.dialect.statements:
                conn.rollback()


