"""What the SQLAlchemy-reachable adapters share: introspection, fenced execution, the caps.

Drivers are synchronous, so every call runs in a worker thread and the event loop never blocks.
An adapter subclass says how its engine is fenced and interrupted through a few hooks:

    _make_read_engine()     the pool of read connections (fenced at connect where the engine can)
    _begin_read(conn, ms)   per-execution fence: READ ONLY transaction, the engine's time limit
    _interrupter(raw)       how the watchdog stops work on that connection at the deadline
    _explain_rows(conn, sql)  the engine's own estimate, where it has one
    _stream_cursor(raw)     a cursor that streams, for downloads (default: the driver's own)
    _stream_columns(cur)    the result columns' types from the executed cursor (default: per value)
    _stream_hooks()         everything else a download's RowStream needs (stream.StreamHooks)

Every execution is guarded by the process's :data:`gateway.warehouse.watchdog.WATCHDOG`; rows
are fetched in batches and counted against the row cap and the byte cap as they arrive, so an
over-large result stops early rather than after it is all in memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, NoSuchTableError, SQLAlchemyError

from gateway.errors import GatewayError, TableNotFound, Timeout, WarehouseError
from gateway.records import ColumnInfo, ForeignKeyInfo
from gateway.warehouse.contract import (
    Capability,
    IntrospectedTable,
    ResultSet,
    Warehouse,
    quote_physical,
    split_physical,
)
from gateway.warehouse.errors import TIMEOUT_MESSAGE
from gateway.warehouse.stream import (
    DEFAULT_BATCH_ROWS,
    CancelSwitch,
    RowStream,
    StreamColumn,
    StreamHooks,
    described,
    untyped_column,
)
from gateway.warehouse.watchdog import WATCHDOG, Guard

DEFAULT_MAX_RESULT_BYTES = 64 * 1024 * 1024
FETCH_BATCH = 512

__all__ = ["DEFAULT_MAX_RESULT_BYTES", "SqlWarehouse", "Warehouse", "quote_physical", "split_physical"]


class SqlWarehouse(Warehouse):
    """An adapter reached through a SQLAlchemy dialect and a DBAPI driver."""

    # Lower-cased fragments of the driver's message that mean "the engine's own time limit".
    timeout_messages: tuple[str, ...] = ()

    def __init__(self, url: str, *, statement_timeout_ms: int = 30_000, query_url: str | None = None,
                 max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES) -> None:
        self.url = url
        self.statement_timeout_ms = statement_timeout_ms
        self.max_result_bytes = max_result_bytes
        self._url = self._driver_url(make_url(url))
        self.backend = self._url.get_backend_name()
        self._query_url = self._driver_url(make_url(query_url)) if query_url else None
        self.engine = self._make_admin_engine()
        self._read_engine = self._make_read_engine()
        # The driver's own error root: reads use its cursor directly (see _execute).
        self._driver_errors: tuple[type[BaseException], ...] = (
            DBAPIError, SQLAlchemyError, OSError, self._read_engine.dialect.loaded_dbapi.Error)

    # --- hooks -----------------------------------------------------------------------------

    def _driver_url(self, url: URL) -> URL:
        return url

    def _make_admin_engine(self) -> Engine:
        return create_engine(self._url, pool_pre_ping=True)

    def _make_read_engine(self) -> Engine:
        return create_engine(self._query_url, pool_pre_ping=True) if self._query_url else self.engine

    def _begin_read(self, conn: Connection, timeout_ms: int) -> None:
        """Fence one execution (read-only transaction, the engine's own time limit)."""

    def _interrupter(self, raw: Any) -> Callable[[], None]:
        return raw.interrupt  # type: ignore[no-any-return]

    def _explain_rows(self, conn: Connection, sql: str) -> int | None:
        return None

    def _cursor_execute(self, cursor: Any, sql: str) -> None:
        """Run one statement; an adapter whose driver would run several (split on ``;``) says
        how to refuse that here."""
        cursor.execute(sql)

    def _end_read(self, conn: Connection) -> None:
        conn.rollback()

    @contextlib.contextmanager
    def write_connection(self, *, exclusive: bool = True) -> Iterator[Any]:
        self.require(Capability.INGESTION)
        proxy = self.engine.raw_connection()
        try:
            conn: Any = proxy.driver_connection
            if self.backend == "sqlite":
                conn.isolation_level = None  # explicit BEGIN IMMEDIATE / COMMIT (ingest_dialect)
            yield conn
        finally:
            proxy.close()

    # --- lifecycle -------------------------------------------------------------------------

    def dispose(self) -> None:
        self.engine.dispose()
        if self._read_engine is not self.engine:
            self._read_engine.dispose()

    async def ping(self) -> None:
        def _ping() -> None:
            with self._read_engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await self.run(_ping)  # the driver's errors come out of run() translated
        except (SQLAlchemyError, OSError) as exc:  # the rest of what reaching it may raise
            raise self.translate(exc) from exc

    # --- introspection -----------------------------------------------------------------------

    async def introspect(self, physical_name: str) -> IntrospectedTable:
        return await self.run(lambda: self._introspect(physical_name))

    def _introspect(self, physical_name: str) -> IntrospectedTable:
        schema, name = split_physical(physical_name)
        missing = f"No warehouse table {physical_name!r}; check the name and schema."
        try:
            with self.engine.connect() as conn:
                inspector = inspect(conn)
                if not inspector.has_table(name, schema=schema):
                    raise TableNotFound(missing)
                pk = set(inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or ())
                columns = tuple(
                    ColumnInfo(
                        name=c["name"],
                        type=_type_text(c["type"]),
                        nullable=bool(c.get("nullable", True)) and c["name"] not in pk,
                        primary_key=c["name"] in pk,
                        default=str(c["default"]) if c.get("default") is not None else None,
                    )
                    for c in inspector.get_columns(name, schema=schema)
                )
                foreign_keys = tuple(
                    ForeignKeyInfo(
                        columns=tuple(fk["constrained_columns"]),
                        referred_table=(f"{fk['referred_schema']}.{fk['referred_table']}"
                                        if fk.get("referred_schema") else fk["referred_table"]),
                        referred_columns=tuple(fk["referred_columns"]),
                    )
                    for fk in inspector.get_foreign_keys(name, schema=schema)
                )
                row_count = self._row_count(conn, physical_name)
        except NoSuchTableError as exc:
            raise TableNotFound(missing) from exc
        except (DBAPIError, SQLAlchemyError) as exc:
            raise self.translate(exc) from exc
        return self.as_declared(IntrospectedTable(physical_name, columns, foreign_keys, row_count))

    def _row_count(self, conn: Connection, physical_name: str) -> int:
        quoted = quote_physical(physical_name, conn.dialect.identifier_preparer.quote)
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {quoted}")).scalar_one())

    # --- read-only execution ---------------------------------------------------------------

    async def execute_read_only(self, sql: str, *, max_rows: int, timeout_ms: int | None = None,
                                max_bytes: int | None = None) -> ResultSet:
        timeout = timeout_ms or self.statement_timeout_ms
        cap = max_bytes or self.max_result_bytes
        return await self.run(lambda: self._execute(sql, max_rows, timeout, cap))

    @contextlib.contextmanager
    def _guarded(self, timeout_ms: int) -> Iterator[tuple[Connection, Guard]]:
        """A fenced read connection whose work the watchdog interrupts at the deadline; errors
        come out translated (Timeout when the deadline stopped it)."""
        deadline = time.monotonic() + timeout_ms / 1000
        guard: Guard | None = None
        try:
            with self._read_engine.connect() as conn:
                raw = conn.connection.driver_connection
                with WATCHDOG.guard(deadline, self._interrupter(raw)) as guard:
                    self._begin_read(conn, timeout_ms)
                    yield conn, guard
                    if guard.fired:  # interrupted without an error (MySQL's SLEEP() returns 1)
                        raise Timeout(TIMEOUT_MESSAGE)
        except GatewayError:
            raise
        except self._driver_errors as exc:
            raise self.translate(exc, timed_out=guard is not None and guard.fired) from exc

    def _execute(self, sql: str, max_rows: int, timeout_ms: int, max_bytes: int) -> ResultSet:
        started = time.perf_counter()
        with self._guarded(timeout_ms) as (conn, _guard):
            # The driver's own cursor: the SQL reaches the engine exactly as written (no bind
            # parameter parsing), one statement only, and without a layer of row objects.
            cursor = conn.connection.cursor()
            try:
                self._cursor_execute(cursor, sql)
                if cursor.description is None:
                    raise WarehouseError("Only queries that return rows run here.")
                names = tuple(d[0] for d in cursor.description)
                rows, truncated, size = fetch_capped(cursor.fetchmany, max_rows, max_bytes)
            finally:
                cursor.close()
            self._end_read(conn)
        columns = tuple((n, value_type(rows, i)) for i, n in enumerate(names))
        return ResultSet(columns=columns, rows=rows, truncated=truncated,
                         elapsed_ms=(time.perf_counter() - started) * 1000, bytes=size)

    # --- streamed reads (downloads) -------------------------------------------------------

    def open_stream(self, sql: str, *, batch_rows: int = DEFAULT_BATCH_ROWS,
                    timeout_ms: int | None = None, switch: CancelSwitch | None = None) -> RowStream:
        self.require(Capability.STREAMED_READS)
        return RowStream(self._stream_hooks(), sql, timeout_ms=timeout_ms or self.statement_timeout_ms,
                         batch_rows=batch_rows, switch=switch)

    def _stream_hooks(self) -> StreamHooks:
        return StreamHooks(connect=self._read_engine.connect, begin=self._begin_read, cursor=self._stream_cursor,
                           columns=self._stream_columns, interrupter=self._interrupter, translate=self.translate,
                           driver_errors=self._driver_errors)

    def _stream_cursor(self, raw: Any) -> Any:
        return raw.cursor()

    def _stream_columns(self, cursor: Any) -> tuple[StreamColumn, ...]:
        return described(untyped_column)(cursor)

    async def explain_rows(self, sql: str) -> int | None:
        def _explain() -> int | None:
            with self._guarded(self.statement_timeout_ms) as (conn, _guard):
                rows = self._explain_rows(conn, sql)
                self._end_read(conn)
                return rows

        try:
            return await self.run(_explain)
        except GatewayError:
            return None  # an estimate is advice: without one the preview says so

    # --- errors -----------------------------------------------------------------------------

    def translate(self, exc: BaseException, *, timed_out: bool = False) -> GatewayError:
        """A driver's error as a coded gateway error: the rule lives in ``gateway.warehouse.errors``
        (no host, port, user, database or path for the client; the driver's words in the log)."""
        return self.errors.coded(exc, timed_out=timed_out, timeout_markers=self.timeout_messages)


def value_size(value: Any) -> int:
    """About how many bytes a value takes in a JSON result."""
    if value is None:
        return 4
    if isinstance(value, str | bytes | bytearray | memoryview):
        return len(value) + 2
    if isinstance(value, list | tuple | dict):
        return len(str(value))
    return 8


# Exact types whose every value value_size counts as 8 bytes (None counts 4); a column holding
# only these (or only str) is sized in C, without a Python call per value.
_FIXED_SIZE: Final = frozenset({type(None), bool, int, float, decimal.Decimal, dt.datetime, dt.date, dt.time,
                                dt.timedelta, uuid.UUID})
_TEXT: Final = frozenset({str})


def _column_size(column: tuple[Any, ...]) -> int:
    """``sum(map(value_size, column))``, in C for the usual columns."""
    kinds = set(map(type, column))
    if kinds <= _FIXED_SIZE:
        return 8 * len(column) - 4 * column.count(None)
    if kinds <= _TEXT:
        return sum(map(len, column)) + 2 * len(column)
    return sum(map(value_size, column))


def fetch_capped(fetchmany: Callable[[int], Any], max_rows: int,
                 max_bytes: int) -> tuple[list[list[Any]], bool, int]:
    """Rows fetched in batches until the row cap or the byte cap: (rows, truncated, bytes).

    The row that would cross the byte cap is not kept: a truncated result is whole rows. A batch
    that fits whole under both caps is sized column by column and kept at once; only a batch that
    crosses a cap is walked row by row to find where.
    """
    rows: list[list[Any]] = []
    size = 0
    while True:
        batch = fetchmany(min(FETCH_BATCH, max_rows + 1 - len(rows)))
        if not batch:
            return rows, False, size
        if len(rows) + len(batch) <= max_rows:
            batch_size = sum(map(_column_size, zip(*batch, strict=True))) + 2 * len(batch)
            if size + batch_size <= max_bytes:
                size += batch_size
                rows.extend(map(list, batch))
                continue
        for row in batch:
            if len(rows) == max_rows:
                return rows, True, size
            row_size = sum(value_size(v) for v in row) + 2
            if size + row_size > max_bytes:
                return rows, True, size
            size += row_size
            rows.append(list(row))


def _type_text(sa_type: Any) -> str:
    try:
        return str(sa_type.compile()).upper()
    except Exception:  # some reflected types cannot compile without a dialect
        return type(sa_type).__name__.upper()


_PY_TYPES = {bool: "BOOLEAN", int: "INTEGER", float: "FLOAT", str: "TEXT", bytes: "BLOB"}


def value_type(rows: list[list[Any]], index: int) -> str:
    for row in rows:
        value = row[index]
        if value is not None:
            return _PY_TYPES.get(type(value), type(value).__name__.upper())
    return "NULL"
