"""How each writable engine spells the ingestion writer's SQL: one row per engine, as data.

The writer (``writer.py``) and the bookkeeping DDL (``ingest_tables.py``) ask this table instead
of branching on the engine: DDL types, placeholders, how a transaction starts and ends, how a
batch reaches a table (COPY or ``executemany``), whether upserts go through a staged copy of the
batch, and how an insert meets an existing key (:class:`OnConflict` or :class:`OnDuplicateKey`).

Identifiers are always written with double quotes: MySQL/MariaDB's writer session runs in
``ANSI_QUOTES`` (see ``gateway.warehouse.adapters.mysql``), so one spelling serves every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.errors import WarehouseUnsupported


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(physical_name: str) -> str:
    schema, _, name = physical_name.rpartition(".")
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


class ConflictSql(Protocol):
    """``INSERT … <source>`` that skips or conditionally updates a row whose key is stored."""

    @property
    def updates_count_twice(self) -> bool: ...  # rowcount counts an updated row as 2 (MySQL), else 1

    def new(self, column: str) -> str: ...  # the value the insert brings

    def old(self, table: str, column: str) -> str: ...  # the stored value

    def insert(self, table: str, columns: Sequence[str], source: str, key: Sequence[str],
               sets: Sequence[str] | None = None, when: str | None = None,
               reads: Sequence[str] = ()) -> str:
        """``sets`` None: keep the stored row. Else set those columns to the new values where
        ``when`` holds (an expression of :meth:`new`/:meth:`old` that reads the ``reads`` columns)."""


@dataclass(frozen=True, slots=True)
class OnConflict:
    """PostgreSQL, SQLite, DuckDB: ``ON CONFLICT (key) DO NOTHING | DO UPDATE … WHERE``."""

    updates_count_twice: bool = False

    def new(self, column: str) -> str:
        return f"excluded.{quote(column)}"

    def old(self, table: str, column: str) -> str:
        return f"t.{quote(column)}"

    def insert(self, table: str, columns: Sequence[str], source: str, key: Sequence[str],
               sets: Sequence[str] | None = None, when: str | None = None,
               reads: Sequence[str] = ()) -> str:
        head = (f"INSERT INTO {table} AS t ({', '.join(map(quote, columns))}) {source} "
                f"ON CONFLICT ({', '.join(map(quote, key))}) ")
        if sets is None:
            return head + "DO NOTHING"
        assignments = ", ".join(f"{quote(c)} = {self.new(c)}" for c in sets)
        return head + f"DO UPDATE SET {assignments}" + (f" WHERE {when}" if when else "")


@dataclass(frozen=True, slots=True)
class OnDuplicateKey:
    """MySQL/MariaDB: ``ON DUPLICATE KEY UPDATE``, which has no WHERE: every assignment is
    ``IF(when, new, stored)``. The server applies them left to right and each sees the ones
    before, so the columns ``when`` does not read go first (they see the stored row whole);
    once a column it reads is set, ``when`` can only turn false where the remaining new and
    stored values already agree — the row ends exactly as one conditional update would leave it.
    A no-op (``key = key``) stands for DO NOTHING: INSERT IGNORE would also swallow data errors.
    """

    updates_count_twice: bool = True

    def new(self, column: str) -> str:
        return f"VALUES({quote(column)})"

    def old(self, table: str, column: str) -> str:
        return f"{table}.{quote(column)}"

    def insert(self, table: str, columns: Sequence[str], source: str, key: Sequence[str],
               sets: Sequence[str] | None = None, when: str | None = None,
               reads: Sequence[str] = ()) -> str:
        head = f"INSERT INTO {table} ({', '.join(map(quote, columns))}) {source} ON DUPLICATE KEY UPDATE "
        if sets is None:
            stored = self.old(table, key[0])
            return head + f"{stored} = {stored}"
        ordered = [c for c in sets if c not in reads] + [c for c in sets if c in reads]
        return head + ", ".join(
            f"{self.old(table, c)} = " + (f"IF({when}, {self.new(c)}, {self.old(table, c)})" if when
                                          else self.new(c))
            for c in ordered)


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
    staged_upsert: bool  # upserts read a staged batch, one row per key
    temp_table: str  # CREATE statement of the staging table: {name}, {defs}
    temp_drop: str  # DROP statement of a staging table left by an earlier batch: {name}
    conflict: ConflictSql = field(default_factory=OnConflict)
    # Bookkeeping columns by kind: short ids (contract, run, operation), the idempotency key's
    # text, long text (records, reasons), canonical UTC time text.
    book: dict[str, str] = field(default_factory=lambda: dict.fromkeys(("id", "key", "text", "time"), "TEXT"))
    distinct: str = "{a} IS DISTINCT FROM {b}"  # NULL-safe "differs"
    inline_indexes: bool = False  # bookkeeping indexes inside CREATE TABLE (no CREATE INDEX IF NOT EXISTS)
    table_options: str = ""  # after CREATE TABLE (…): the storage engine, where the server picks one
    naive_times: bool = False  # TIMESTAMP columns take UTC wall time (no +00:00 offset)
    # A text or JSON column of an idempotency key, where the engine's index needs a bounded type
    # ({n}: characters), and the byte budget of one index (each such character counts 4 bytes).
    key_text: str | None = None
    index_bytes: int = 0
    max_identifier: int | None = None  # longest table name; PostgreSQL would cut a longer one silently
    # The reverse of ``types`` where introspection reads a DDL type back as something else: the
    # introspected type's name (before any "(") -> the contract type the column was made for.
    read_back: dict[str, str] = field(default_factory=dict)

    def declared_type(self, introspected: str) -> str:
        """The contract type of a managed column that introspects as ``introspected``."""
        return self.read_back.get(introspected.split("(")[0], introspected)

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

    def differs(self, a: str, b: str) -> str:
        return self.distinct.format(a=a, b=b)

    def key_text_chars(self, key_types: Sequence[str]) -> int | None:
        """How many characters a text/JSON column of a key with these contract types may hold
        here (None: no limit but the validator's own); the one rule DDL and validation share."""
        if self.key_text is None:
            return None
        texts = sum(t in _TEXTUAL for t in key_types)
        if not texts:
            return None
        fixed = 8 * (len(key_types) - texts)  # every other key type takes at most 8 bytes
        return min(768, (self.index_bytes - fixed) // (4 * texts))

    def column_type(self, ctype: str, key_types: Sequence[str] | None = None) -> str:
        """The DDL type of a column; ``key_types`` when the column is part of the key."""
        limit = self.key_text_chars(key_types) if key_types is not None and ctype in _TEXTUAL else None
        return self.key_text.format(n=limit) if self.key_text and limit else self.types[ctype]


_TEXTUAL = frozenset({"TEXT", "JSON"})
_TYPES = {"INTEGER": "INTEGER", "BIGINT": "BIGINT", "TEXT": "TEXT", "BOOLEAN": "BOOLEAN", "DATE": "DATE"}


def _mysql(collation: str) -> IngestDialect:
    # Text compares byte for byte and without padding (a binary NO PAD collation): 'A' and 'a',
    # 'x' and 'x ' are different keys and different values, as on PostgreSQL.
    text = f"CHARACTER SET utf8mb4 COLLATE {collation}"
    return IngestDialect(
        types={**_TYPES, "TEXT": f"LONGTEXT {text}", "DOUBLE": "DOUBLE", "TIMESTAMP": "DATETIME(6)",
               "JSON": "JSON"},
        schemas=False, placeholder="%s", real="DOUBLE", serial="BIGINT AUTO_INCREMENT PRIMARY KEY",
        sequences=False, begin=None, statements=False, bulk="executemany", staged_upsert=True,
        # TEMPORARY: creating and dropping it does not commit the batch's transaction (other DDL does).
        temp_table="CREATE TEMPORARY TABLE {name} ({defs}) ENGINE=InnoDB",
        temp_drop="DROP TEMPORARY TABLE IF EXISTS {name}",
        conflict=OnDuplicateKey(),
        book={"id": f"VARCHAR(255) {text}", "key": "VARBINARY(2000)", "text": f"LONGTEXT {text}",
              "time": f"VARCHAR(40) {text}"},
        distinct="NOT ({a} <=> {b})", inline_indexes=True,
        table_options=f" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}", naive_times=True,
        key_text=f"VARCHAR({{n}}) {text}", index_bytes=3072, max_identifier=64,
        # A TIMESTAMP is held as DATETIME(6) in UTC, a text key column as a VARCHAR sized to the index.
        read_back={"DATETIME": "TIMESTAMP", "VARCHAR": "TEXT"})


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
        temp_drop="DROP TABLE IF EXISTS pg_temp.{name}", max_identifier=63),
    "duckdb": IngestDialect(
        types={**_TYPES, "DOUBLE": "DOUBLE", "TIMESTAMP": "TIMESTAMPTZ", "JSON": "JSON"},
        schemas=True, placeholder="?", real="DOUBLE",
        serial="BIGINT PRIMARY KEY DEFAULT nextval('{sequence}')", sequences=True,
        begin="BEGIN TRANSACTION", statements=True, bulk="unnest", staged_upsert=True,
        temp_table="CREATE TEMP TABLE {name} ({defs})", temp_drop="DROP TABLE IF EXISTS temp.{name}",
        # PostgreSQL's reflection reads its TIMESTAMPTZ back as TIMESTAMP already; DuckDB's does not.
        read_back={"TIMESTAMP WITH TIME ZONE": "TIMESTAMP"}),
    # MySQL 8.0+ (window functions) and MariaDB 10.3+: the same SQL, each server's NO PAD
    # binary collation. A mysql:// URL may reach either; the adapter says which it found.
    "mysql": _mysql("utf8mb4_0900_bin"),
    "mariadb": _mysql("utf8mb4_nopad_bin"),
}


def ingest_dialect(engine: str, backend: str) -> IngestDialect:
    """The row for ``backend``; an engine without one cannot ingest."""
    found = DIALECTS.get(backend)
    if found is None:
        raise WarehouseUnsupported(f"The configured warehouse ({engine}) does not support ingestion.",
                                   warehouse=engine, capability="ingestion")
    return found
