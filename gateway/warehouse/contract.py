"""The warehouse adapter contract: what every engine behind the gateway must do, or say it cannot.

An adapter is one module under ``gateway/warehouse/adapters/`` with one subclass of
:class:`Warehouse`. It declares, as data (:class:`Capabilities`), the sqlglot dialect it speaks
and which capabilities it has; the gateway asks the declaration, never the engine's name:

    introspection        columns (type, nullability), primary and foreign keys, row count
    read_only            queries run on a connection the engine itself keeps from writing, reading
                         files, loading extensions or changing the session
    row_cap, byte_cap    a result stops at ``max_rows`` rows or ``max_bytes`` bytes (truncated)
    statement_timeout    the engine's own time limit on a statement
    cancel               a watchdog interrupts the connection at the deadline, even inside one call
    estimate             the engine's own row estimate (EXPLAIN)
    column_stats         aggregate statistics of columns (drift gate, joins)
    join_stats           sampled join statistics
    ingestion            managed tables: shadow tables, landing log, quarantine, append/upsert
    streamed_reads       rows fetched from a cursor in batches

What an adapter lacks answers :class:`gateway.errors.WarehouseUnsupported`
(``WAREHOUSE_UNSUPPORTED``) naming the warehouse and the capability, through :meth:`require`.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import dataclasses
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Engine

from gateway.errors import WarehouseUnsupported
from gateway.records import ColumnInfo, ForeignKeyInfo
from gateway.warehouse.errors import WarehouseErrors
from gateway.warehouse.ingest_dialect import ingest_dialect
from gateway.warehouse.naming import is_shadow_space
from gateway.warehouse.stream import DEFAULT_BATCH_ROWS, CancelSwitch, RowStream

T = TypeVar("T")


class Capability(StrEnum):
    INTROSPECTION = "introspection"
    READ_ONLY = "read_only"
    ROW_CAP = "row_cap"
    BYTE_CAP = "byte_cap"
    STATEMENT_TIMEOUT = "statement_timeout"
    CANCEL = "cancel"
    ESTIMATE = "estimate"
    COLUMN_STATS = "column_stats"
    JOIN_STATS = "join_stats"
    INGESTION = "ingestion"
    STREAMED_READS = "streamed_reads"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one adapter declares. ``dialect`` is sqlglot's name for the SQL the engine speaks
    (the planner's per-dialect function table is keyed by it)."""

    engine: str  # the adapter's name: sqlite, postgresql, duckdb, mysql, …
    dialect: str
    supported: frozenset[Capability]
    install_extra: str | None = None  # pip extra that brings the driver, None when built in
    notes: dict[Capability, str] = field(default_factory=dict)  # how the engine does it, for docs

    def has(self, capability: Capability) -> bool:
        return capability in self.supported

    def names(self) -> list[str]:
        """The supported capabilities, in the contract's order."""
        return [c.value for c in Capability if c in self.supported]


@dataclass(frozen=True, slots=True)
class IntrospectedTable:
    physical_name: str
    columns: tuple[ColumnInfo, ...]
    foreign_keys: tuple[ForeignKeyInfo, ...]
    row_count: int


@dataclass(frozen=True, slots=True)
class ResultSet:
    columns: tuple[tuple[str, str], ...]  # (name, type)
    rows: list[list[Any]]
    truncated: bool  # the row cap or the byte cap stopped the result
    elapsed_ms: float
    bytes: int = 0  # the size counted against the byte cap


def split_physical(physical_name: str) -> tuple[str | None, str]:
    schema, _, name = physical_name.rpartition(".")
    return (schema or None), name


def file_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of an embedded warehouse's file, None when it is not there: an adapter
    notices the file was replaced (``spyne demo load`` renames a new one over it) or removed."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def quote_physical(physical_name: str, quote: Callable[[str], str]) -> str:
    schema, name = split_physical(physical_name)
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


class Warehouse(abc.ABC):
    """One configured warehouse. Blocking driver calls run in worker threads (:meth:`run`)."""

    capabilities: Capabilities
    url: str
    backend: str  # SQLAlchemy's backend name: managed-table naming keys on it
    engine: Engine  # the admin engine: introspection and the ingestion writer
    statement_timeout_ms: int
    max_result_bytes: int

    @property
    def dialect(self) -> str:
        return self.capabilities.dialect

    def require(self, capability: Capability) -> None:
        if not self.capabilities.has(capability):
            raise WarehouseUnsupported(
                f"The configured warehouse ({self.capabilities.engine}) does not support "
                f"{capability.value}.", warehouse=self.capabilities.engine, capability=capability.value)

    def ingest_variant(self) -> str:
        """Which row of ``gateway.warehouse.ingest_dialect.DIALECTS`` spells this warehouse's
        writes: its backend, unless the server behind one URL scheme differs (MySQL/MariaDB)."""
        return self.backend

    def as_declared(self, found: IntrospectedTable) -> IntrospectedTable:
        """A gateway-managed table with its columns typed as its contract declared them (what
        ``ingest_dialect`` made each one, read back), so refreshing an ingested table finds no drift;
        any other table as the engine reports it."""
        if not (is_shadow_space(found.physical_name) and self.capabilities.has(Capability.INGESTION)):
            return found
        declared = ingest_dialect(self.capabilities.engine, self.ingest_variant()).declared_type
        return dataclasses.replace(found, columns=tuple(dataclasses.replace(c, type=declared(c.type))
                                                          for c in found.columns))

    async def run(self, fn: Callable[[], T]) -> T:
        """``fn`` in a worker thread; a driver's exception comes out as WAREHOUSE_ERROR or TIMEOUT,
        translated by :mod:`gateway.warehouse.errors` (the one place that rule lives)."""
        try:
            return await asyncio.to_thread(fn)
        except Exception as exc:
            translated = self.errors.translate(exc)
            if translated is None:
                raise
            raise translated from exc

    @functools.cached_property
    def errors(self) -> WarehouseErrors:
        """This warehouse's translator: it knows the URLs whose parts must never reach a client."""
        return WarehouseErrors(self.url, getattr(self, "_query_url", None))

    def quote(self, identifier: str) -> str:
        return self.engine.dialect.identifier_preparer.quote(identifier)  # type: ignore[no-any-return]

    # --- the contract ---------------------------------------------------------------------

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise WarehouseError when the warehouse cannot be reached (quickly: never hangs)."""

    @abc.abstractmethod
    async def introspect(self, physical_name: str) -> IntrospectedTable: ...

    @abc.abstractmethod
    async def execute_read_only(self, sql: str, *, max_rows: int, timeout_ms: int | None = None,
                                max_bytes: int | None = None) -> ResultSet:
        """Run one query on a fenced read connection: at most ``max_rows`` rows and ``max_bytes``
        bytes (``truncated`` says either stopped it); past ``timeout_ms`` the work is interrupted
        and :class:`gateway.errors.Timeout` raised."""

    @abc.abstractmethod
    async def explain_rows(self, sql: str) -> int | None:
        """The engine's own row estimate, or None where it has none (or cannot estimate this)."""

    @abc.abstractmethod
    def dispose(self) -> None: ...

    def write_connection(self, *, exclusive: bool = True) -> contextlib.AbstractContextManager[Any]:
        """The ingestion writer's DBAPI connection (transactions as ``ingest_dialect`` says);
        ``exclusive`` where the engine needs one writer at a time."""
        self.require(Capability.INGESTION)
        raise NotImplementedError  # an adapter that declares ingestion provides it

    def open_stream(self, sql: str, *, batch_rows: int = DEFAULT_BATCH_ROWS,
                    timeout_ms: int | None = None, switch: CancelSwitch | None = None) -> RowStream:
        """``streamed_reads``: run one query on a fenced read connection and return its rows as a
        :class:`RowStream` — columns with their types, then batches straight from a cursor that
        streams (never the whole result), cancellable from another thread, the statement timeout
        counting the time spent in the warehouse. Blocking: call it in a worker thread; ``switch``
        cancels it from another thread, from before it returns (the reader went away).
        :class:`gateway.warehouse.engine.SqlWarehouse` implements it from its hooks; DuckDB and
        Spark hand :class:`RowStream` hooks of their own."""
        self.require(Capability.STREAMED_READS)
        raise NotImplementedError

    # --- SQL the statistics modules need, in the engine's spelling ------------------------

    def text_cast(self, expression: str) -> str:
        return f"CAST({expression} AS TEXT)"

    def random_sql(self) -> str | None:
        """An expression uniform in [0, 1), drawn per row; None where the engine (or the fence in
        front of it) offers none."""
        return "random()"

    def sample_sql(self, table: str, columns: str, rows: int, table_rows: int) -> str:
        """A query of about ``rows`` of the table's ``table_rows`` rows, spread over the whole table
        (the first rows of a table stored in date order hold a few dates): each row kept with
        probability rows/table_rows, in one scan without a sort. Without a random function, the
        first rows."""
        random = self.random_sql()
        if random is None or table_rows <= rows:
            return f"SELECT {columns} FROM {table} LIMIT {int(rows)}"
        return f"SELECT {columns} FROM {table} WHERE {random} < {rows / table_rows:.9f} LIMIT {2 * int(rows)}"

    def scale_sql(self, column: str) -> str:
        """Digits after the point, the most among the column's values (an aggregate)."""
        text = self.text_cast(column)
        # Digits after the point of the value's text; an exponent form over-counts, which errs
        # towards "does not fit" — the safe side for a gate.
        return (f"MAX(CASE WHEN INSTR({text}, '.') > 0 THEN LENGTH({text}) - INSTR({text}, '.') "
                f"ELSE 0 END)")
