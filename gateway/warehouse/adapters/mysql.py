"""MySQL and MariaDB, through PyMySQL (``pip install 'spyne-gateway[mysql]'``).

PyMySQL is pure Python and well kept: it installs anywhere without a C client library, and
SQLAlchemy's ``mysql+pymysql`` dialect introspects columns, primary and foreign keys.

The read fence: each execution is a ``START TRANSACTION READ ONLY`` (the server refuses writes
to tables) with the engine's own time limit (MariaDB ``max_statement_time``, MySQL
``max_execution_time``), one statement per call (PyMySQL sends no multi-statements). DDL would
commit the transaction implicitly and file functions need the FILE privilege, so the second fence
is the login: give ``SPYNE_WAREHOUSE_QUERY_URL`` a user with SELECT only, as the contract suite
does. A statement that returns no rows (``SET``…) may have changed the session: its connection
is thrown away, not pooled. At the deadline the watchdog sends ``KILL QUERY`` for the
connection's thread from a separate connection.

Downloads (``streamed_reads``) read through PyMySQL's unbuffered ``SSCursor``: rows arrive from
the server as they are fetched, never the whole result in the gateway. Column types come from
the field packets (type, unsigned flag, character set: text or bytes, a DECIMAL's digits). The
download's transaction is READ ONLY like every read; its time limit is the watchdog's budget of
time spent in fetches (``KILL QUERY`` when it runs out, and when the client goes away), not the
server's ``max_statement_time``: the server counts the time it waits for a slow reader too, and
a slow reader is not a slow query. A stream stopped before its last row has its query killed and
its connection closed: an unbuffered cursor would otherwise read the rest of the result, and the
connection cannot serve anyone until it has.

Ingestion writes through the admin URL on connections of its own (never the read pool): a
session in ``ANSI_QUOTES`` (the writer's SQL quotes identifiers with double quotes on every
engine) and strict mode (a value that does not fit fails instead of being cut), without
SQLAlchemy's ``FOUND_ROWS`` flag, so a row that an upsert leaves as it was counts 0, not 1.
Gateway-managed tables carry the name prefix (``spyne_shadow__t__v1``, ``spyne_ingest__landing``)
in the configured database: a database per space would be shared by every warehouse database on
the server and need server-wide CREATE rights.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pymysql.cursors
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from gateway.errors import WarehouseError
from gateway.warehouse.contract import Capabilities, Capability
from gateway.warehouse.engine import SqlWarehouse
from gateway.warehouse.stream import StreamColumn, StreamHooks, close_quietly
from gateway.warehouse.stream_kinds import mysql_columns

CONNECT_TIMEOUT_S = 5

CAPABILITIES = Capabilities(
    engine="mysql", dialect="mysql", install_extra="mysql",
    supported=frozenset(Capability),
    notes={Capability.READ_ONLY: "START TRANSACTION READ ONLY; a SELECT-only user (query URL)",
           Capability.STATEMENT_TIMEOUT: "max_statement_time (MariaDB) / max_execution_time (MySQL)",
           Capability.CANCEL: "watchdog: KILL QUERY from a second connection",
           Capability.ESTIMATE: "EXPLAIN: rows × filtered over the join",
           Capability.STREAMED_READS: "unbuffered SSCursor; types from the field packets; KILL QUERY and "
                                      "the connection closed when stopped early",
           Capability.INGESTION: "ON DUPLICATE KEY UPDATE, <=>; shadow tables by name prefix"},
)
# The writer's session: identifiers in double quotes, strict about every value, on top of
# whatever else the server's mode says.
WRITER_SESSION = ("SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), "
                  "'ANSI_QUOTES', 'STRICT_ALL_TABLES')")
FOUND_ROWS = 2  # pymysql.constants.CLIENT.FOUND_ROWS


class MySqlWarehouse(SqlWarehouse):
    capabilities = CAPABILITIES
    timeout_messages = ("interrupted", "max_statement_time", "maximum statement execution time")

    def __init__(self, url: str, **options: Any) -> None:
        self._writer: Engine | None = None  # made at the first write
        self._variant: str | None = None
        self._writer_lock = threading.Lock()
        super().__init__(url, **options)

    def _driver_url(self, url: URL) -> URL:
        if url.drivername in {"mysql", "mariadb"}:
            return url.set(drivername=f"{url.drivername}+pymysql")
        return url

    def _make_admin_engine(self) -> Engine:
        return create_engine(self._url, pool_pre_ping=True, pool_recycle=3600,
                             connect_args={"connect_timeout": CONNECT_TIMEOUT_S})

    def _make_read_engine(self) -> Engine:
        url = self._query_url or self._url
        read = create_engine(url, pool_pre_ping=True, pool_recycle=3600,
                             connect_args={"connect_timeout": CONNECT_TIMEOUT_S}) \
            if self._query_url else self.engine
        # KILL QUERY needs a connection of its own: the pool may be all busy with stuck queries.
        self._killer: Engine = create_engine(url, poolclass=NullPool,
                                             connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
        return read

    def dispose(self) -> None:
        super().dispose()
        self._killer.dispose()
        if self._writer is not None:
            self._writer.dispose()

    def _writer_engine(self) -> Engine:
        with self._writer_lock:
            if self._writer is None:
                writer = create_engine(self._url, pool_pre_ping=True, pool_recycle=3600,
                                       connect_args={"connect_timeout": CONNECT_TIMEOUT_S,
                                                     "init_command": WRITER_SESSION})

                @event.listens_for(writer, "do_connect")
                def _changed_rows(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
                    params["client_flag"] = int(params.get("client_flag", 0)) & ~FOUND_ROWS

                self._writer = writer
            return self._writer

    @contextlib.contextmanager
    def write_connection(self, *, exclusive: bool = True) -> Iterator[Any]:
        self.require(Capability.INGESTION)
        proxy = self._writer_engine().raw_connection()
        try:
            yield proxy.driver_connection
        finally:
            proxy.close()

    def ingest_variant(self) -> str:
        """``mariadb`` or ``mysql``, as the server answers (either URL scheme may reach either)."""
        if self._variant is None:
            engine = self._writer_engine()
            with engine.connect():  # the dialect learns the server on its first connection
                pass
            self._variant = "mariadb" if engine.dialect.is_mariadb else "mysql"  # type: ignore[attr-defined]
        return self._variant

    def _begin_read(self, conn: Connection, timeout_ms: int) -> None:
        if conn.dialect.is_mariadb:  # type: ignore[attr-defined]
            conn.exec_driver_sql(f"SET SESSION max_statement_time = {timeout_ms / 1000:.3f}")
        else:
            conn.exec_driver_sql(f"SET SESSION max_execution_time = {int(timeout_ms)}")
        conn.exec_driver_sql("START TRANSACTION READ ONLY")

    def _begin_stream(self, conn: Connection, _timeout_ms: int) -> None:
        # No server limit left over from this pooled connection's last read: the watchdog's
        # budget of fetch time is the download's limit (the module docstring says why).
        conn.exec_driver_sql("SET SESSION max_statement_time = 0" if conn.dialect.is_mariadb  # type: ignore[attr-defined]
                             else "SET SESSION max_execution_time = 0")
        conn.exec_driver_sql("START TRANSACTION READ ONLY")

    def _stream_hooks(self) -> StreamHooks:
        hooks = super()._stream_hooks()
        return replace(hooks, begin=self._begin_stream, abandon=self._abandon, release_cursor=_release,
                       execute=lambda cursor, sql, _ms: self._cursor_execute(cursor, sql))

    def _stream_cursor(self, raw: Any) -> Any:
        return raw.cursor(pymysql.cursors.SSCursor)

    def _stream_columns(self, cursor: Any) -> tuple[StreamColumn, ...]:
        # The result's field packets: the description leaves out the unsigned flag and the
        # character set (PyMySQL keeps them on its result object only).
        return mysql_columns(cursor._result.fields)

    def _abandon(self, conn: Connection) -> None:
        """Stop the statement and close the connection: never back to the pool mid-result."""
        try:
            self._interrupter(conn.connection.driver_connection)()
        finally:
            conn.invalidate()

    def _cursor_execute(self, cursor: Any, sql: str) -> None:
        cursor.execute(sql)
        if cursor.description is None:
            # Not a query: whatever it did to the session (SET …) dies with the connection.
            cursor.connection.close()
            raise WarehouseError("Only queries that return rows run here.")

    def _end_read(self, conn: Connection) -> None:
        conn.rollback()

    def _interrupter(self, raw: Any) -> Callable[[], None]:
        thread_id = int(raw.thread_id())

        def kill() -> None:
            with self._killer.connect() as conn:
                conn.execute(text(f"KILL QUERY {thread_id}"))

        return kill

    def text_cast(self, expression: str) -> str:
        return f"CAST({expression} AS CHAR)"

    def random_sql(self) -> str:
        return "RAND()"

    def _explain_rows(self, conn: Connection, sql: str) -> int | None:
        result = conn.exec_driver_sql(f"EXPLAIN {sql}")
        keys = list(result.keys())
        if "rows" not in keys:
            return None
        estimate = 1.0
        for row in result.fetchall():
            record = dict(zip(keys, row, strict=True))
            rows = float(record.get("rows") or 1)
            filtered = float(record.get("filtered") or 100) / 100
            estimate *= max(rows * filtered, 1.0)
        return int(estimate)


def _release(cursor: Any) -> None:
    """Close an unbuffered cursor; on a connection already closed mid-result (abandoned) there is
    nothing left to read, so PyMySQL must not try to drain the rest of the result."""
    result, connection = cursor._result, cursor.connection
    if result is not None and connection is not None and not connection.open:
        result.unbuffered_active = False
    close_quietly(cursor)
