"""DuckDB: embedded and analytical, through DuckDB's own Python API (``pip install 'spyne-gateway[duckdb]'``).

Why the native API and not duckdb-engine: duckdb-engine's reflection runs PostgreSQL catalog
SQL that breaks on SQLAlchemy 2.1, and its primary/foreign keys fail on every version
(duckdb_engine #594); the engine's own catalog (``duckdb_columns()``, ``duckdb_constraints()``,
``duckdb_tables()``) says everything introspection needs, and the native cursor is the fastest
path for reads.

One database instance per process, opened once with the fence in its configuration:
``enable_external_access = false`` (no ``read_csv``/``read_parquet``/``COPY``/``ATTACH``/
``INSTALL``/``LOAD``, no file of any kind), extension auto-install/auto-load off, and
``lock_configuration`` (no ``SET``/``PRAGMA`` may change it back). Its connections (cursors)
are made up front, each with the progress bar off (a per-connection setting that would
otherwise print into the JSON log), before the configuration is locked. Every read runs in a
``READ ONLY`` transaction, rolled back after, and must be exactly one SELECT by DuckDB's own
parser (``USE`` would change a pooled connection's schema for its next user). The watchdog
calls the connection's ``interrupt()`` at the deadline.

Downloads (``streamed_reads``) run on a pooled connection with the same fence, and fetch from
DuckDB's own streaming result (``execute`` returns before the rows exist; each ``fetchmany``
computes the next ones), so nothing holds the whole result. Column types are the engine's:
the description carries each column's ``DuckDBPyType`` (a DECIMAL's precision and scale too).

DuckDB lets one process write a file. ``duckdb:///file.duckdb`` opens it read-write (ingestion
works; one gateway process per file: ``spyne serve --workers N`` refuses to start);
``duckdb:///file.duckdb?read_only=true`` opens it read-only, so several workers and other
readers can share it, and ingestion answers ``WAREHOUSE_UNSUPPORTED``.

DuckDB runs a query on as many threads as the host has cores, so one runaway query takes every
core from the gateway's own process until its deadline. ``?threads=N`` caps that (set before the
configuration is locked): below the core count where the gateway shares the host.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import duckdb
from sqlalchemy.engine import make_url

from gateway.errors import GatewayError, TableNotFound, Timeout, WarehouseError
from gateway.records import ColumnInfo, ForeignKeyInfo
from gateway.warehouse.contract import (
    Capabilities,
    Capability,
    IntrospectedTable,
    ResultSet,
    Warehouse,
    file_identity,
    quote_physical,
    split_physical,
)
from gateway.warehouse.engine import DEFAULT_MAX_RESULT_BYTES, fetch_capped, value_type
from gateway.warehouse.errors import TIMEOUT_MESSAGE
from gateway.warehouse.registry import WarehouseConfigError
from gateway.warehouse.stream import DEFAULT_BATCH_ROWS, CancelSwitch, RowStream, StreamHooks, described
from gateway.warehouse.stream_kinds import duckdb_column
from gateway.warehouse.watchdog import WATCHDOG, Guard

_ALL = frozenset(Capability)
CAPABILITIES = Capabilities(
    engine="duckdb", dialect="duckdb", supported=_ALL, install_extra="duckdb",
    notes={Capability.READ_ONLY: "READ ONLY transaction; external access off; configuration locked",
           Capability.STATEMENT_TIMEOUT: "watchdog: Connection.interrupt()",
           Capability.CANCEL: "Connection.interrupt()",
           Capability.ESTIMATE: "EXPLAIN (FORMAT json): Estimated Cardinality",
           Capability.STREAMED_READS: "DuckDB's streaming result, fetchmany per batch; types from the description"},
)
READ_ONLY_CAPABILITIES = Capabilities(
    engine="duckdb", dialect="duckdb", supported=_ALL - {Capability.INGESTION}, install_extra="duckdb",
    notes={**CAPABILITIES.notes, Capability.INGESTION: "the file is opened read_only=true"})

# Fixed when the instance opens; the last one locks the rest.
FENCE_CONFIG = {"enable_external_access": False, "autoinstall_known_extensions": False,
                "autoload_known_extensions": False, "allow_community_extensions": False}
POOL_SIZE = 8
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


class DuckDBLocked(WarehouseError):
    """Another process has the DuckDB file open for writing."""


def open_duckdb(path: str, read_only: bool, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    config: dict[str, Any] = dict(FENCE_CONFIG)
    if threads is not None:
        config["threads"] = threads
    try:
        return duckdb.connect(path, read_only=read_only, config=config)
    except duckdb.IOException as exc:
        holder = _LOCK_HOLDER.search(str(exc))
        if holder is None:
            raise WarehouseError(f"The DuckDB warehouse could not be opened: {str(exc).splitlines()[0][:200]}") \
                from exc
        raise DuckDBLocked(
            f"The DuckDB file {path} is held by another process (PID {holder.group(2)}): DuckDB lets one "
            "process write a file. Run one gateway process (--workers 1), or open it read-only in "
            "every process with ?read_only=true in SPYNE_WAREHOUSE_URL (no ingestion then).") from exc


def _threads(value: Any) -> int | None:
    """``?threads=N`` of the URL: a whole number of at least 1, or absent (DuckDB's default)."""
    if value is None:
        return None
    text = str(value)
    if not text.isdigit() or int(text) < 1:
        raise WarehouseConfigError(f"threads={text!r} in the DuckDB URL must be a whole number of at least 1.")
    return int(text)


class DuckDBWarehouse(Warehouse):
    backend = "duckdb"

    def __init__(self, url: str, *, statement_timeout_ms: int = 30_000, query_url: str | None = None,
                 max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES) -> None:
        parsed = make_url(url)
        self.url = url
        self.path = parsed.database or ":memory:"
        self.read_only = str(parsed.query.get("read_only", "false")).lower() in {"1", "true", "yes"}
        self.capabilities = READ_ONLY_CAPABILITIES if self.read_only else CAPABILITIES
        self.threads = _threads(parsed.query.get("threads"))
        self.statement_timeout_ms = statement_timeout_ms
        self.max_result_bytes = max_result_bytes
        self._db: duckdb.DuckDBPyConnection | None = None
        self._file: tuple[int, int] | None = None  # (device, inode) of the file opened
        self._generation = 0
        self._readers: queue.Queue[tuple[int, duckdb.DuckDBPyConnection]] = queue.Queue()
        self._writers: queue.Queue[tuple[int, duckdb.DuckDBPyConnection]] = queue.Queue()
        self._write_lock = threading.Lock()
        self._open_lock = threading.Lock()

    # --- the instance and its connections --------------------------------------------------

    def _instance(self) -> None:
        """Opened at first use (an absent file is a coded error, and the server still starts);
        opened again when the file was replaced (``spyne demo load`` renames a new one over it)
        or removed (then a coded error until it is back)."""
        current = file_identity(self.path)
        with self._open_lock:
            if self._db is not None and current == self._file:
                return
            self._close()
            if current is None and self.path != ":memory:":
                raise WarehouseError("The DuckDB warehouse file is not there; is the path right?")
            db = open_duckdb(self.path, self.read_only, self.threads)
            # Each connection's progress bar off (a per-connection setting), then the lock.
            made = [db.cursor() for _ in range(2 * POOL_SIZE)]
            for conn in (db, *made):
                conn.execute("SET enable_progress_bar = false")
            db.execute("SET lock_configuration = true")
            self._generation += 1
            for i, conn in enumerate(made):
                (self._readers if i < POOL_SIZE else self._writers).put((self._generation, conn))
            self._db, self._file = db, current

    def _close(self) -> None:
        for pool in (self._readers, self._writers):
            while not pool.empty():
                pool.get_nowait()[1].close()
        if self._db is not None:
            self._db.close()
        self._db, self._file = None, None

    @contextlib.contextmanager
    def _connection(self, pool: queue.Queue[tuple[int, duckdb.DuckDBPyConnection]]
                    ) -> Iterator[duckdb.DuckDBPyConnection]:
        self._instance()
        generation, conn = pool.get()
        try:
            yield conn
        finally:
            with contextlib.suppress(duckdb.Error):
                conn.execute("ROLLBACK")  # whatever was left open
            if generation == self._generation:
                pool.put((generation, conn))
            else:  # the file was opened afresh meanwhile: this one belongs to the old instance
                conn.close()

    def _reader(self) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
        return self._connection(self._readers)

    def dispose(self) -> None:
        with self._open_lock:
            self._close()

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def text_cast(self, expression: str) -> str:
        return f"CAST({expression} AS VARCHAR)"

    # --- reachability, introspection --------------------------------------------------------

    async def ping(self) -> None:
        def _ping() -> None:
            with self._reader() as conn:
                conn.execute("SELECT 1").fetchall()

        try:
            await self.run(_ping)
        except GatewayError:
            raise
        except duckdb.Error as exc:
            raise self.translate(exc) from exc

    async def introspect(self, physical_name: str) -> IntrospectedTable:
        return await self.run(lambda: self._introspect(physical_name))

    def _introspect(self, physical_name: str) -> IntrospectedTable:
        schema, name = split_physical(physical_name)
        schema = schema or "main"
        try:
            with self._reader() as conn:
                found = conn.execute(
                    "SELECT estimated_size FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
                    "AND database_name = current_database()", (schema, name)).fetchall()
                if not found:
                    raise TableNotFound(f"No warehouse table {physical_name!r}; check the name and schema.")
                constraints = conn.execute(
                    "SELECT constraint_type, constraint_column_names, referenced_table, "
                    "referenced_column_names FROM duckdb_constraints() WHERE schema_name = ? AND table_name = ? "
                    "AND database_name = current_database() AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') "
                    "ORDER BY constraint_index", (schema, name)).fetchall()
                pk = {c for kind, cols, _, _ in constraints if kind == "PRIMARY KEY" for c in cols}
                columns = tuple(
                    ColumnInfo(name=col, type=str(type_).upper(), nullable=bool(nullable) and col not in pk,
                               primary_key=col in pk, default=str(default) if default is not None else None)
                    for col, type_, nullable, default in conn.execute(
                        "SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns() "
                        "WHERE schema_name = ? AND table_name = ? AND database_name = current_database() "
                        "ORDER BY column_index", (schema, name)).fetchall())
                foreign_keys = tuple(
                    ForeignKeyInfo(columns=tuple(cols),
                                   referred_table=ref if schema == "main" else f"{schema}.{ref}",
                                   referred_columns=tuple(ref_cols))
                    for kind, cols, ref, ref_cols in constraints if kind == "FOREIGN KEY")
                quoted = quote_physical(physical_name, self.quote)
                row_count = int(conn.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0])  # type: ignore[index]
        except GatewayError:
            raise
        except duckdb.Error as exc:
            raise self.translate(exc) from exc
        return self.as_declared(IntrospectedTable(physical_name, columns, foreign_keys, row_count))

    # --- reads --------------------------------------------------------------------------------

    async def execute_read_only(self, sql: str, *, max_rows: int, timeout_ms: int | None = None,
                                max_bytes: int | None = None) -> ResultSet:
        timeout = timeout_ms or self.statement_timeout_ms
        cap = max_bytes or self.max_result_bytes
        return await self.run(lambda: self._execute(sql, max_rows, timeout, cap))

    @contextlib.contextmanager
    def _guarded(self, sql: str, timeout_ms: int) -> Iterator[duckdb.DuckDBPyConnection]:
        guard: Guard | None = None
        try:
            with self._reader() as conn:
                _one_select(conn, sql)
                with WATCHDOG.guard(time.monotonic() + timeout_ms / 1000, conn.interrupt) as guard:
                    conn.execute("BEGIN TRANSACTION READ ONLY")
                    yield conn
                    if guard.fired:
                        raise Timeout(TIMEOUT_MESSAGE)
        except GatewayError:
            raise
        except duckdb.Error as exc:
            raise self.translate(exc, timed_out=guard is not None and guard.fired) from exc

    def _execute(self, sql: str, max_rows: int, timeout_ms: int, max_bytes: int) -> ResultSet:
        started = time.perf_counter()
        with self._guarded(sql, timeout_ms) as conn:
            conn.execute(sql)
            names = tuple(d[0] for d in conn.description or ())
            rows, truncated, size = fetch_capped(conn.fetchmany, max_rows, max_bytes)
        columns = tuple((n, value_type(rows, i)) for i, n in enumerate(names))
        return ResultSet(columns=columns, rows=rows, truncated=truncated,
                         elapsed_ms=(time.perf_counter() - started) * 1000, bytes=size)

    def open_stream(self, sql: str, *, batch_rows: int = DEFAULT_BATCH_ROWS,
                    timeout_ms: int | None = None, switch: CancelSwitch | None = None) -> RowStream:
        """A pooled read connection is its own cursor (a cursor of it would be a new connection,
        outside the transaction and the interrupt); the pool's ROLLBACK ends the result."""
        self.require(Capability.STREAMED_READS)
        hooks = StreamHooks(
            connect=self._reader, driver=lambda conn: conn, cursor=lambda conn: conn,
            release_cursor=lambda _conn: None, begin=lambda conn, _ms: conn.execute("BEGIN TRANSACTION READ ONLY"),
            execute=_execute_one, columns=described(duckdb_column), interrupter=lambda conn: conn.interrupt,
            translate=self.translate, driver_errors=(duckdb.Error,))
        return RowStream(hooks, sql, timeout_ms=timeout_ms or self.statement_timeout_ms, batch_rows=batch_rows,
                         switch=switch)

    async def explain_rows(self, sql: str) -> int | None:
        def _explain() -> int | None:
            with self._guarded(sql, self.statement_timeout_ms) as conn:
                plan = conn.execute(f"EXPLAIN (FORMAT json) {sql}").fetchall()
            try:
                return int(json.loads(plan[0][1])[0]["extra_info"]["Estimated Cardinality"])
            except (KeyError, IndexError, TypeError, ValueError):
                return None

        try:
            return await self.run(_explain)
        except GatewayError:
            return None

    def translate(self, exc: BaseException, *, timed_out: bool = False) -> GatewayError:
        """Through the one place driver errors are translated (``gateway.warehouse.errors``)."""
        return self.errors.coded(exc, timed_out=timed_out or isinstance(exc, duckdb.InterruptException))

    # --- the ingestion writer's connection -------------------------------------------------------

    @contextlib.contextmanager
    def write_connection(self, *, exclusive: bool = True) -> Iterator[Any]:
        """One writer at a time (DuckDB's optimistic concurrency would fail the second of two
        batches touching the same rows); reads of the bookkeeping need not wait."""
        self.require(Capability.INGESTION)
        with contextlib.ExitStack() as stack:
            if exclusive:
                stack.enter_context(self._write_lock)
            yield stack.enter_context(self._connection(self._writers))


def _one_select(conn: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Exactly one SELECT by DuckDB's own parser (``USE`` would change a pooled connection's
    schema for its next user)."""
    statements = conn.extract_statements(sql)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise WarehouseError("Only one query that returns rows runs here.")


def _execute_one(conn: duckdb.DuckDBPyConnection, sql: str, _timeout_ms: int) -> None:
    _one_select(conn, sql)
    conn.execute(sql)

