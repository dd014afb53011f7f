"""The warehouse: the only place that runs SQL on it.

Drivers are synchronous (sqlite3, psycopg), so every call runs in a worker thread and the event
loop never blocks. Query execution uses connections that cannot write and cannot reach anything
else: on SQLite a read-only URI connection with ``query_only`` and zero attachable databases, a
progress handler as the statement timeout; on PostgreSQL a READ ONLY transaction with a local
``statement_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, NoSuchTableError, OperationalError
from sqlalchemy.pool import NullPool, QueuePool

from gateway.errors import TableNotFound, Timeout, WarehouseError
from gateway.records import ColumnInfo, ForeignKeyInfo
from gateway.warehouse import spark

T = TypeVar("T")

SQLGLOT_DIALECT = {"sqlite": "sqlite", "postgresql": "postgres", "duckdb": "duckdb", "hive": "spark"}


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
    truncated: bool
    elapsed_ms: float


def split_physical(physical_name: str) -> tuple[str | None, str]:
    schema, _, name = physical_name.rpartition(".")
    return (schema or None), name


def quote_physical(physical_name: str, quote: Callable[[str], str]) -> str:
    schema, name = split_physical(physical_name)
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


class Warehouse:
    def __init__(self, url: str, *, statement_timeout_ms: int = 30_000, query_url: str | None = None) -> None:
        self.url = url
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        self.dialect = SQLGLOT_DIALECT.get(self.backend, self.backend)
        self.statement_timeout_ms = statement_timeout_ms
        if self.backend == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self._url = parsed
        # The admin engine introspects and (for managed tables) writes; the query engine reads.
        # A Thrift session caches table metadata and statistics: sessions are renewed every 5 minutes.
        extra: dict[str, Any] = ({"connect_args": spark.connect_args(), "pool_recycle": 300}
                                 if self.backend == "hive" else {})
        self.engine: Engine = create_engine(parsed, poolclass=NullPool if self.backend == "sqlite" else None,
                                            pool_pre_ping=self.backend not in ("sqlite", "hive"), **extra)
        self._query_url = query_url
        self._read_engine: Engine = self._make_read_engine()

    def _make_read_engine(self) -> Engine:
        if self.backend != "sqlite":
            if self._query_url:
                query = make_url(self._query_url)
                if query.drivername == "postgresql":
                    query = query.set(drivername="postgresql+psycopg")
                return create_engine(query, pool_pre_ping=True)
            return self.engine
        database = self._url.database or ""

        def connect() -> sqlite3.Connection:
            # mode=ro: the file cannot be written through this handle, whatever SQL arrives.
            conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, check_same_thread=False)
            conn.execute("PRAGMA query_only = ON")
            conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
            # The last fence: SQLite itself refuses anything but reading (no PRAGMA, ATTACH, DML).
            conn.set_authorizer(_read_only_authorizer)
            return conn

        # Read connections are pooled (a fresh one costs more than a small query, and starts with
        # a cold page cache); one opened on a file since replaced (`spyne demo load` renames a new
        # warehouse over the old) is dropped at checkout and opened again.
        engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=8, max_overflow=8)

        @event.listens_for(engine, "connect")
        def _remember_file(_dbapi_connection: Any, record: Any) -> None:
            record.info["file"] = _file_identity(database)

        @event.listens_for(engine, "checkout")
        def _same_file(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            if record.info.get("file") != _file_identity(database):
                raise DisconnectionError("the warehouse file was replaced or removed")

        return engine

    async def run(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._read_engine is not self.engine:
            self._read_engine.dispose()

    # --- reachability --------------------------------------------------------------------

    async def ping(self) -> None:
        def _ping() -> None:
            with self._read_engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await self.run(_ping)
        except DBAPIError as exc:
            raise WarehouseError("The warehouse is not reachable right now; try again shortly.") from exc

    # --- introspection -------------------------------------------------------------------

    async def introspect(self, physical_name: str) -> IntrospectedTable:
        return await self.run(lambda: self._introspect(physical_name))

    def _introspect(self, physical_name: str) -> IntrospectedTable:
        if self.backend == "hive":
            return self._introspect_spark(physical_name)
        schema, name = split_physical(physical_name)
        try:
            with self.engine.connect() as conn:
                inspector = inspect(conn)
                if not inspector.has_table(name, schema=schema):
                    raise TableNotFound(f"No warehouse table {physical_name!r}; check the name and schema.")
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
                quoted = quote_physical(physical_name, conn.dialect.identifier_preparer.quote)
                row_count = int(conn.execute(text(f"SELECT COUNT(*) FROM {quoted}")).scalar_one())
        except NoSuchTableError as exc:
            raise TableNotFound(f"No warehouse table {physical_name!r}; check the name and schema.") from exc
        except OperationalError as exc:
            raise WarehouseError("The warehouse could not be introspected; is it reachable?") from exc
        return IntrospectedTable(physical_name, columns, foreign_keys, row_count)

    def _introspect_spark(self, physical_name: str) -> IntrospectedTable:
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            columns = spark.describe(raw, physical_name)
            return IntrospectedTable(physical_name, columns, (), spark.count_rows(raw, physical_name))

    # --- read-only execution -------------------------------------------------------------

    async def execute_read_only(self, sql: str, *, max_rows: int, timeout_ms: int | None = None) -> ResultSet:
        timeout = timeout_ms or self.statement_timeout_ms
        return await self.run(lambda: self._execute(sql, max_rows, timeout))

    def _execute(self, sql: str, max_rows: int, timeout_ms: int) -> ResultSet:
        started = time.perf_counter()
        if self.backend == "hive":
            with self._read_engine.connect() as conn:
                found = spark.execute(conn.connection.driver_connection, sql, max_rows=max_rows, timeout_ms=timeout_ms)
            return ResultSet(columns=tuple(zip(found.names, found.types, strict=True)), rows=found.rows,
                             truncated=found.truncated, elapsed_ms=(time.perf_counter() - started) * 1000)
        try:
            with self._read_engine.connect() as conn, contextlib.ExitStack() as limits:
                if self.backend == "sqlite":
                    limits.enter_context(_sqlite_deadline(conn, started + timeout_ms / 1000))
                elif self.backend == "postgresql":
                    conn.execute(text("SET TRANSACTION READ ONLY"))
                    conn.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
                result = conn.execute(text(sql))
                if not result.returns_rows:
                    raise WarehouseError("Only queries that return rows run here.")
                names = tuple(result.keys())
                fetched = result.fetchmany(max_rows + 1)
                conn.rollback()
        except DBAPIError as exc:
            raise _classify(exc) from exc
        truncated = len(fetched) > max_rows
        rows = [list(r) for r in fetched[:max_rows]]
        columns = tuple((n, _value_type(rows, i)) for i, n in enumerate(names))
        return ResultSet(columns=columns, rows=rows, truncated=truncated,
                         elapsed_ms=(time.perf_counter() - started) * 1000)

    async def explain_rows(self, sql: str) -> int | None:
        """The warehouse's own row estimate, where it has one (PostgreSQL; Spark once tables are analysed)."""
        if self.backend == "hive":
            def _spark_estimate() -> int | None:
                with self._read_engine.connect() as conn:
                    return spark.estimate_rows(conn.connection.driver_connection, sql)

            return await self.run(_spark_estimate)
        if self.backend != "postgresql":
            return None

        def _explain() -> int | None:
            with self._read_engine.connect() as conn:
                conn.execute(text("SET TRANSACTION READ ONLY"))
                plan = conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar_one()
                conn.rollback()
            try:
                return int(plan[0]["Plan"]["Plan Rows"])
            except (KeyError, IndexError, TypeError, ValueError):
                return None

        try:
            return await self.run(_explain)
        except DBAPIError:
            return None


_SQLITE_READ_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                                  getattr(sqlite3, "SQLITE_RECURSIVE", 33)})


def _read_only_authorizer(action: int, arg1: str | None, arg2: str | None, *_rest: object) -> int:
    if action in _SQLITE_READ_ACTIONS:
        return sqlite3.SQLITE_OK
    # Reading a pragma is allowed (SQLAlchemy asks for some on connect); setting one is not.
    if action == sqlite3.SQLITE_PRAGMA and arg2 is None:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


@contextlib.contextmanager
def _sqlite_deadline(conn: Any, deadline: float) -> Iterator[None]:
    """The statement timeout on SQLite: a progress handler that interrupts past ``deadline``.

    Taken off again afterwards: the connection goes back to the pool, and its next user must
    not inherit a deadline that has passed.
    """
    raw = conn.connection.driver_connection

    def check() -> int:
        return 1 if time.perf_counter() > deadline else 0

    raw.set_progress_handler(check, 10_000)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


def _classify(exc: DBAPIError) -> Exception:
    message = str(exc.orig).lower()
    if "interrupted" in message or "statement timeout" in message or "canceling statement" in message:
        return Timeout("The query ran past the statement timeout; add a filter or a limit.")
    return WarehouseError("The warehouse could not run the query: " + str(exc.orig).splitlines()[0][:300])


def _type_text(sa_type: Any) -> str:
    try:
        return str(sa_type.compile()).upper()
    except Exception:  # some reflected types cannot compile without a dialect
        return type(sa_type).__name__.upper()


_PY_TYPES = {bool: "BOOLEAN", int: "INTEGER", float: "FLOAT", str: "TEXT", bytes: "BLOB"}


def _value_type(rows: list[list[Any]], index: int) -> str:
    for row in rows:
        value = row[index]
        if value is not None:
            return _PY_TYPES.get(type(value), type(value).__name__.upper())
    return "NULL"
