"""SQLite: embedded, built into Python.

The read fence is SQLite's own: a ``mode=ro`` URI connection, ``query_only``, zero attachable
databases, and an authorizer that denies everything but reading (no PRAGMA writes, ATTACH,
DML, DDL, ``load_extension``). ``SQLITE_LIMIT_LENGTH`` is set to the byte cap, so no one value
(``printf('%.*c', 1e9, 'x')``, ``zeroblob``) can grow past it inside the engine. The timeout is
the watchdog calling ``Connection.interrupt()``; SQLite has no EXPLAIN row estimate.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import NullPool, QueuePool

from gateway.errors import GatewayError, WarehouseError
from gateway.warehouse.contract import Capabilities, Capability, file_identity
from gateway.warehouse.engine import SqlWarehouse

CAPABILITIES = Capabilities(
    engine="sqlite", dialect="sqlite",
    supported=frozenset({Capability.INTROSPECTION, Capability.READ_ONLY, Capability.ROW_CAP,
                         Capability.BYTE_CAP, Capability.STATEMENT_TIMEOUT, Capability.CANCEL,
                         Capability.COLUMN_STATS, Capability.JOIN_STATS, Capability.INGESTION,
                         Capability.STREAMED_READS}),
    notes={Capability.READ_ONLY: "mode=ro URI, query_only, authorizer, no ATTACH",
           Capability.STATEMENT_TIMEOUT: "watchdog: Connection.interrupt()",
           Capability.CANCEL: "Connection.interrupt()",
           Capability.BYTE_CAP: "SQLITE_LIMIT_LENGTH bounds each value; rows counted as fetched",
           Capability.STREAMED_READS: "the statement steps as rows are fetched; types inferred per value"},
)

# SQLite pads printf output one character at a time (~60 ms per million): past this many the
# call could outlive its deadline by more than the watchdog's second.
PRINTF_MAX_WIDTH = 16 * 1024 * 1024

_READ_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                           getattr(sqlite3, "SQLITE_RECURSIVE", 33)})


class SqliteWarehouse(SqlWarehouse):
    capabilities = CAPABILITIES
    timeout_messages = ("interrupted",)

    def _make_admin_engine(self) -> Engine:
        return create_engine(self._url, poolclass=NullPool)

    def _make_read_engine(self) -> Engine:
        database = self._url.database or ""
        value_limit = max(1, min(self.max_result_bytes, 1_000_000_000))

        def connect() -> sqlite3.Connection:
            # mode=ro: the file cannot be written through this handle, whatever SQL arrives.
            conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, check_same_thread=False)
            conn.execute("PRAGMA query_only = ON")
            conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, value_limit)
            # The last fence: SQLite itself refuses anything but reading (no PRAGMA, ATTACH, DML).
            conn.set_authorizer(_read_only_authorizer)
            _bound_printf(conn, min(value_limit, PRINTF_MAX_WIDTH))
            return conn

        # Read connections are pooled (a fresh one costs more than a small query, and starts with
        # a cold page cache); one opened on a file since replaced (`spyne demo load` renames a new
        # warehouse over the old) is dropped at checkout and opened again.
        engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=8, max_overflow=8)

        @event.listens_for(engine, "connect")
        def _remember_file(_dbapi_connection: Any, record: Any) -> None:
            record.info["file"] = file_identity(database)

        @event.listens_for(engine, "checkout")
        def _same_file(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            if record.info.get("file") != file_identity(database):
                raise DisconnectionError("the warehouse file was replaced or removed")

        return engine

    def random_sql(self) -> str:
        # SQLite's random() is a 64-bit integer.
        return "(ABS(RANDOM()) % 1000000000) / 1000000000.0"

    def translate(self, exc: BaseException, *, timed_out: bool = False) -> GatewayError:
        message = str(getattr(exc, "orig", exc)).lower()
        # The only functions a read connection defines are the bounded printf/format.
        if "string or blob too big" in message or "user-defined function raised" in message:
            return WarehouseError("One value would be larger than the byte cap (SPYNE_MAX_RESULT_BYTES="
                                  f"{self.max_result_bytes}; printf/format widths at most "
                                  f"{min(self.max_result_bytes, PRINTF_MAX_WIDTH)}).")
        return super().translate(exc, timed_out=timed_out)


# One printf conversion: flags, width (digits or *), precision (digits or *), the type.
_PRINTF_SPEC = re.compile(r"%[-+ 0#,!]*(\*|\d+)?(?:\.(\*|\d+))?([a-zA-Z%])")


def _printf_width(fmt: str, args: tuple[Any, ...]) -> int:
    """The characters ``printf(fmt, *args)`` may pad to: every width and precision, summed."""
    total, index = len(fmt), 0
    for width, precision, kind in _PRINTF_SPEC.findall(fmt):
        for part in (width, precision):
            if part == "*":
                value = args[index] if index < len(args) else 0
                index += 1
                total += abs(int(value)) if isinstance(value, int | float) else 0
            elif part:
                total += int(part)
        index += kind != "%"
    return total


def _bound_printf(conn: sqlite3.Connection, limit: int) -> None:
    """``printf``/``format`` whose widths and precisions may not exceed ``limit`` characters.

    SQLite (3.40) builds ``printf('%.*c', 2e8, 'x')`` one character at a time inside one call:
    seconds that neither the interrupt nor ``SQLITE_LIMIT_LENGTH`` can cut short. So the read
    connection's printf checks what it is asked to build first, then lets SQLite's own printf
    (on a private in-memory connection) do the formatting.
    """
    builtin = sqlite3.connect(":memory:", check_same_thread=False)

    def printf(fmt: Any, *args: Any) -> Any:
        if isinstance(fmt, str) and _printf_width(fmt, args) > limit:
            raise ValueError("printf would build a value larger than the byte cap")
        marks = ", ".join("?" for _ in range(len(args) + 1))
        return builtin.execute(f"SELECT printf({marks})", (fmt, *args)).fetchone()[0]

    # Only the read connection's own thread calls it (one statement at a time); the private
    # connection is opened without the same-thread check because pooled connections move.

    for name in ("printf", "format"):
        conn.create_function(name, -1, printf, deterministic=True)


def _read_only_authorizer(action: int, arg1: str | None, arg2: str | None, *_rest: object) -> int:
    if action in _READ_ACTIONS:
        return sqlite3.SQLITE_OK
    # Reading a pragma is allowed (SQLAlchemy asks for some on connect); setting one is not.
    if action == sqlite3.SQLITE_PRAGMA and arg2 is None:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY

