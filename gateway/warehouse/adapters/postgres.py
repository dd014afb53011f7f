"""PostgreSQL (and engines that speak its protocol), through psycopg 3.

The read fence: every execution runs in a ``READ ONLY`` transaction with a local
``statement_timeout``; give ``SPYNE_WAREHOUSE_QUERY_URL`` a role with SELECT only on what
analysts may read for the second fence. The watchdog sends a cancel request at the deadline
too, so a query stuck past the server's own limit (or never reaching it) still stops. The
estimate is ``EXPLAIN (FORMAT JSON)``'s top plan rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL

from gateway.warehouse.contract import Capabilities, Capability
from gateway.warehouse.engine import SqlWarehouse
from gateway.warehouse.stream import StreamColumn, described
from gateway.warehouse.stream_kinds import pg_column

CONNECT_TIMEOUT_S = 5

CAPABILITIES = Capabilities(
    engine="postgresql", dialect="postgres",
    supported=frozenset(Capability),
    notes={Capability.READ_ONLY: "READ ONLY transaction; optional SELECT-only role (query URL)",
           Capability.STATEMENT_TIMEOUT: "SET LOCAL statement_timeout",
           Capability.CANCEL: "watchdog: psycopg cancel request",
           Capability.ESTIMATE: "EXPLAIN (FORMAT JSON)",
           Capability.STREAMED_READS: "a named (server-side) cursor, FETCH per batch; types from the OIDs"},
)


# A table of more rows than this many samples is sampled by pages, not scanned (sample_sql).
BLOCK_SAMPLE_FACTOR = 100
PAGE_SPREAD = 30


class PostgresWarehouse(SqlWarehouse):
    capabilities = CAPABILITIES
    timeout_messages = ("statement timeout", "canceling statement")

    def _driver_url(self, url: URL) -> URL:
        return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url

    def _make_admin_engine(self) -> Engine:
        return create_engine(self._url, pool_pre_ping=True, connect_args=_connect_args(self._url))

    def _make_read_engine(self) -> Engine:
        if self._query_url is None:
            return self.engine
        return create_engine(self._query_url, pool_pre_ping=True, connect_args=_connect_args(self._query_url))

    def _begin_read(self, conn: Connection, timeout_ms: int) -> None:
        conn.execute(text("SET TRANSACTION READ ONLY"))
        conn.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))

    def _cursor_execute(self, cursor: Any, sql: str) -> None:
        # The extended protocol (prepare=True): one statement per call, never a batch that
        # could end the READ ONLY transaction and start another.
        cursor.execute(sql, prepare=True)

    def _interrupter(self, raw: Any) -> Callable[[], None]:
        return getattr(raw, "cancel_safe", raw.cancel)  # type: ignore[no-any-return]

    def _stream_cursor(self, raw: Any) -> Any:
        # A named (server-side) cursor: DECLARE, then FETCH FORWARD n per batch.
        return raw.cursor(name=f"spyne_download_{uuid.uuid4().hex}")

    def _stream_columns(self, cursor: Any) -> tuple[StreamColumn, ...]:
        return described(pg_column)(cursor)

    def scale_sql(self, column: str) -> str:
        return f"MAX(SCALE(CAST({column} AS NUMERIC)))"

    def sample_sql(self, table: str, columns: str, rows: int, table_rows: int) -> str:
        # Past BLOCK_SAMPLE_FACTOR samples' worth of rows, read only some pages (TABLESAMPLE
        # SYSTEM: PAGE_SPREAD times the pages needed) and keep that share of their rows, so that
        # rows stored together on a page do not come along together; smaller tables are scanned
        # (the base rule).
        if table_rows <= BLOCK_SAMPLE_FACTOR * rows:
            return super().sample_sql(table, columns, rows, table_rows)
        percent = min(100.0, 100.0 * PAGE_SPREAD * rows / table_rows)
        return (f"SELECT {columns} FROM {table} TABLESAMPLE SYSTEM ({percent:.9f}) "
                f"WHERE random() < {1 / PAGE_SPREAD:.9f} LIMIT {2 * int(rows)}")

    def _explain_rows(self, conn: Connection, sql: str) -> int | None:
        plan = conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar_one()
        try:
            return int(plan[0]["Plan"]["Plan Rows"])
        except (KeyError, IndexError, TypeError, ValueError):
            return None


def _connect_args(url: URL) -> dict[str, Any]:
    # An unreachable host answers "not reachable" in seconds, never hangs a request or /readyz.
    return {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_S}
