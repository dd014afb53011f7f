"""How each writable engine spells the ingestion writer's SQL: one row per engine, as data.

The writer (``writer.py``) and the bookkeeping DDL (``ingest_tables.py``) ask this table instead
of branching on the engine: DDL types, placeholders, how a transaction starts and ends, how a
batch reaches a table (COPY or ``executemany``), and whether upserts go through a staged copy of
the batch (one row per key, ``DISTINCT ON``) or straight in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.errors import WarehouseUnsupported


@dataclass(frozen=True, slots=True)
class IngestDialect:
    types: dict[str, str]  # canonical contract type -> DDL type
    schemas: bool  # real schemas (spyne_shadow.t) rather than a name prefix
    placeholder: str  # how the driver marks a parameter
    real: str  # a floating-point column of the bookkeeping
    serial: str  # the bookkeeping's generated id column; {sequence} where the engine needs one
    sequences: bool  # the serial needs CREATE SEQUENCE first
    begin: str | None  # the statement that starts a write transaction, or None (driver's own)
    statements: bool  # COMMIT/ROLLBACK are statements (else the connection's methods)
    bulk: str  # how rows reach a table: "copy" (COPY … FROM STDIN), "unnest" (lists), "executemany"
    staged_upsert: bool  # upserts read a staged batch, one row per key (DISTINCT ON)
    temp_table: str  # CREATE statement of the staging table: {name}, {defs}
    temp_drop: str  # DROP statement of a staging table left by an earlier batch: {name}

    def sql(self, text: str) -> str:
        """Statements are written with ``?`` placeholders."""
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    def start(self, cur: Any) -> None:
        if self.begin:
            cur.execute(self.begin)

    def commit(self, conn: Any, cur: Any) -> None:
        cur.execute("COMMIT") if self.statements else conn.commit()

    def rollback(self, conn: Any, cur: Any) -> None:
        cur.execute("ROLLBACK") if self.statements else conn.rollback()

    def serial_column(self, sequence: str) -> str:
        return self.serial.format(sequence=sequence)


_TYPES = {"INTEGER": "INTEGER", "BIGINT": "BIGINT", "TEXT": "TEXT", "BOOLEAN": "BOOLEAN", "DATE": "DATE"}

DIALECTS: dict[str, IngestDialect] = {
    "sqlite": IngestDialect(
        types={**_TYPES, "DOUBLE": "DOUBLE", "TIMESTAMP": "TIMESTAMP", "JSON": "JSON"},
        schemas=False, placeholder="?", real="REAL", serial="INTEGER PRIMARY KEY AUTOINCREMENT",
        sequences=False, begin="BEGIN IMMEDIATE",  # take the write lock now, not halfway through
        statements=True, bulk="executemany", staged_upsert=False,
        temp_table="CREATE TEMP TABLE {name} ({defs})", temp_drop="DROP TABLE IF EXISTS temp.{name}"),
    "postgresql": IngestDialect(
        types={**_TYPES, "DOUBLE": "DOUBLE PRECISION", "TIMESTAMP": "TIMESTAMPTZ", "JSON": "JSONB"},
        schemas=True, placeholder="%s", real="DOUBLE PRECISION", serial="BIGSERIAL PRIMARY KEY",
        sequences=False, begin=None, statements=False, bulk="copy", staged_upsert=True,
        temp_table="CREATE TEMP TABLE {name} ({defs}) ON COMMIT DROP",
        temp_drop="DROP TABLE IF EXISTS pg_temp.{name}"),
    "duckdb": IngestDialect(
        types={**_TYPES, "DOUBLE": "DOUBLE", "TIMESTAMP": "TIMESTAMPTZ", "JSON": "JSON"},
        schemas=True, placeholder="?", real="DOUBLE",
        serial="BIGINT PRIMARY KEY DEFAULT nextval('{sequence}')", sequences=True,
        begin="BEGIN TRANSACTION", statements=True, bulk="unnest", staged_upsert=True,
        temp_table="CREATE TEMP TABLE {name} ({defs})", temp_drop="DROP TABLE IF EXISTS temp.{name}"),
}


def ingest_dialect(engine: str, backend: str) -> IngestDialect:
    """The row for ``backend``; an engine without one cannot ingest."""
    found = DIALECTS.get(backend)
    if found is None:
        raise WarehouseUnsupported(f"The configured warehouse ({engine}) does not support ingestion.",
                                   warehouse=engine, capability="ingestion")
    return found
