"""Streamed reads: a query's rows in batches from the warehouse cursor, with the column types.

A download must never hold its whole result: the query runs on a read-only connection with a
server-side cursor where the engine has one (a named cursor on PostgreSQL; SQLite steps its
statement as rows are fetched), and rows come out ``batch_rows`` at a time through the DBAPI
cursor itself (no Row objects per value).

The statement timeout holds for the time spent *in the warehouse* — the sum of the fetches — not
the time the client takes to read: a slow reader is not a slow query. Each fetch is bounded by what
is left of it (a progress handler on SQLite, ``statement_timeout`` per FETCH on PostgreSQL), and
the sum is checked between fetches.

What an engine adapter provides (the small contract every engine can meet), as one
:class:`StreamingDialect` in :data:`STREAMING`:

* ``prepare(connection, timeout_ms)`` — make the transaction read-only and bounded (run once);
* ``bound_fetch(raw, remaining_ms)`` — a context bounding one fetch (may do nothing if
  ``prepare``'s timeout already applies per statement);
* ``cursor(raw)`` — a DBAPI cursor that streams (server-side on PostgreSQL: a named cursor);
* ``column(name, description_entry)`` — the :class:`StreamColumn` the cursor description says
  (``kind=None`` when the engine types per value, as SQLite does: the encoder infers it);
* ``cancel(raw)`` — thread-safe: stop a statement in flight (``None`` if the driver cannot).

Everything here is synchronous and runs in a worker thread; :meth:`RowStream.cancel` is the one
call that may come from another thread.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from gateway.errors import GatewayError, Timeout, WarehouseError

DEFAULT_BATCH_ROWS = 65_536


@dataclass(frozen=True, slots=True)
class StreamColumn:
    """One result column. ``kind`` is a portable type name (see KINDS), or None: inferred from values."""

    name: str
    kind: str | None
    precision: int | None = None
    scale: int | None = None


# The portable column kinds an adapter may report; the encoders map each to a file type.
KINDS = frozenset({"BOOLEAN", "INT16", "INT32", "INT64", "FLOAT32", "FLOAT64", "DECIMAL", "TEXT", "DATE",
                   "TIME", "TIMESTAMP", "TIMESTAMPTZ", "INTERVAL", "BINARY", "JSON", "UUID"})


class StreamCancelled(GatewayError):
    """The reader went away; the query was stopped. Never reaches a client (there is none)."""

    code = "CANCELLED"


@dataclass(frozen=True)
class StreamingDialect:
    prepare: Callable[[Connection, int], None]
    bound_fetch: Callable[[Any, float], contextlib.AbstractContextManager[None]]
    column: Callable[[str, Any], StreamColumn]
    cursor: Callable[[Any], Any]
    cancel: Callable[[Any], None] | None


class RowStream:
    """An open streamed query: ``columns``, then :meth:`batches`; closed by ``close`` (or ``with``)."""

    def __init__(self, engine: Engine, dialect: StreamingDialect, sql: str, *, timeout_ms: int,
                 batch_rows: int = DEFAULT_BATCH_ROWS) -> None:
        self._dialect = dialect
        self._batch_rows = batch_rows
        self._budget_ms = float(timeout_ms)
        self._cancelled = threading.Event()
        # cancel() comes from another thread: it must never reach a connection already back in
        # the pool (it would stop someone else's statement).
        self._lock = threading.Lock()
        self._raw: Any = None
        self._stack = contextlib.ExitStack()
        try:
            connection = self._stack.enter_context(engine.connect())
            self._raw = connection.connection.driver_connection
            dialect.prepare(connection, timeout_ms)
            self._cursor = dialect.cursor(self._raw)
            self._stack.callback(_close_quietly, self._cursor)
            with self._fetching():
                self._cursor.execute(sql)
            if not self._cursor.description:
                raise WarehouseError("Only queries that return rows run here.")
            self.columns: tuple[StreamColumn, ...] = tuple(
                dialect.column(str(entry[0]), entry) for entry in self._cursor.description)
        except BaseException:
            self.close()
            raise

    def batches(self, first_rows: int | None = None) -> Iterator[list[Sequence[Any]]]:
        """Row batches straight from the cursor until it is exhausted, cancelled or out of time.

        ``first_rows`` sizes the first batch only (a small one gets the first byte out sooner)."""
        size = first_rows or self._batch_rows
        while True:
            if self._cancelled.is_set():
                raise StreamCancelled("the download was cancelled")
            with self._fetching():
                rows = self._cursor.fetchmany(size)
            if not rows:
                return
            yield rows
            size = self._batch_rows

    @contextlib.contextmanager
    def _fetching(self) -> Iterator[None]:
        if self._budget_ms <= 0:
            raise _timeout()
        started = time.perf_counter()
        try:
            with self._dialect.bound_fetch(self._raw, self._budget_ms):
                yield
        except DBAPIError as exc:
            raise self._classified(exc.orig) from exc
        except GatewayError:
            raise
        except Exception as exc:  # the driver's own errors, from its raw cursor
            if _is_driver_error(exc):
                raise self._classified(exc) from exc
            raise
        finally:
            self._budget_ms -= (time.perf_counter() - started) * 1000

    def _classified(self, error: BaseException | None) -> GatewayError:
        if self._cancelled.is_set():
            return StreamCancelled("the download was cancelled")
        return classify(error)

    def cancel(self) -> None:
        """From any thread: stop the statement in flight and the batches after it."""
        self._cancelled.set()
        with self._lock:
            if self._raw is not None and self._dialect.cancel is not None:
                with contextlib.suppress(Exception):  # the statement may have just finished
                    self._dialect.cancel(self._raw)

    def close(self) -> None:
        with self._lock:
            self._raw = None
        with contextlib.suppress(Exception):  # rolling back a cancelled transaction may complain
            self._stack.close()

    def __enter__(self) -> RowStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _close_quietly(cursor: Any) -> None:
    with contextlib.suppress(Exception):
        cursor.close()


def classify(error: BaseException | None) -> GatewayError:
    message = str(error).lower()
    if "interrupted" in message or "statement timeout" in message or "canceling statement" in message:
        return _timeout()
    first = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
    return WarehouseError("The warehouse could not run the query: " + first)


def _timeout() -> Timeout:
    return Timeout("The query ran past the statement timeout; add a filter or a limit.")


def _is_driver_error(exc: Exception) -> bool:
    # PEP 249: every driver's errors derive from its module's Error; their class names say so.
    return any(cls.__name__ in ("Error", "DatabaseError", "OperationalError") for cls in type(exc).__mro__)


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_prepare(_connection: Connection, _timeout_ms: int) -> None:
    """Nothing to do: the read engine's connections are read-only (mode=ro, query_only, authorizer)."""


@contextlib.contextmanager
def _sqlite_bound_fetch(raw: sqlite3.Connection, remaining_ms: float) -> Iterator[None]:
    deadline = time.perf_counter() + remaining_ms / 1000

    def check() -> int:
        return 1 if time.perf_counter() > deadline else 0

    raw.set_progress_handler(check, 10_000)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)  # the connection goes back to the pool without a deadline


def _untyped(name: str, _entry: Any) -> StreamColumn:
    return StreamColumn(name, None)


# --- PostgreSQL ------------------------------------------------------------------------------

# Type OIDs (pg_type) -> portable kinds; anything else is carried as text.
PG_KINDS: dict[int, str] = {
    16: "BOOLEAN", 20: "INT64", 21: "INT16", 23: "INT32", 26: "INT64", 700: "FLOAT32", 701: "FLOAT64",
    1700: "DECIMAL", 25: "TEXT", 1043: "TEXT", 1042: "TEXT", 19: "TEXT", 18: "TEXT", 1082: "DATE",
    1083: "TIME", 1114: "TIMESTAMP", 1184: "TIMESTAMPTZ", 1186: "INTERVAL", 17: "BINARY", 114: "JSON",
    3802: "JSON", 2950: "UUID",
}


def _pg_prepare(connection: Connection, timeout_ms: int) -> None:
    connection.execute(text("SET TRANSACTION READ ONLY"))
    # Per statement: bounds the DECLARE and each FETCH; the stream bounds their sum.
    connection.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))


@contextlib.contextmanager
def _no_bound(_raw: Any, _remaining_ms: float) -> Iterator[None]:
    yield


def _pg_column(name: str, entry: Any) -> StreamColumn:
    kind = PG_KINDS.get(int(entry.type_code), "TEXT")
    if kind == "DECIMAL":
        return StreamColumn(name, kind, getattr(entry, "precision", None), getattr(entry, "scale", None))
    return StreamColumn(name, kind)


def _pg_cancel(raw: Any) -> None:
    raw.cancel()  # psycopg: sends a cancel request on its own connection; safe from another thread


def _pg_cursor(raw: Any) -> Any:
    # A named (server-side) cursor: DECLARE, then FETCH FORWARD n per batch.
    return raw.cursor(name=f"spyne_download_{uuid.uuid4().hex}")


def _plain_cursor(raw: Any) -> Any:
    return raw.cursor()


SQLITE = StreamingDialect(prepare=_sqlite_prepare, bound_fetch=_sqlite_bound_fetch, column=_untyped,
                          cursor=_plain_cursor, cancel=lambda raw: raw.interrupt())
POSTGRESQL = StreamingDialect(prepare=_pg_prepare, bound_fetch=_no_bound, column=_pg_column, cursor=_pg_cursor,
                              cancel=_pg_cancel)
# Any other engine until its adapter says better: the driver's plain cursor, types inferred from
# values, no cancel in flight (a cancelled download stops at the next batch).
GENERIC = StreamingDialect(prepare=lambda _c, _t: None, bound_fetch=_no_bound, column=_untyped,
                           cursor=_plain_cursor, cancel=None)

STREAMING: dict[str, StreamingDialect] = {"sqlite": SQLITE, "postgresql": POSTGRESQL}


def open_row_stream(engine: Engine, backend: str, sql: str, *, timeout_ms: int,
                    batch_rows: int = DEFAULT_BATCH_ROWS) -> RowStream:
    """Run ``sql`` read-only on ``engine`` and return its stream (blocking: call from a worker thread)."""
    return RowStream(engine, STREAMING.get(backend, GENERIC), sql, timeout_ms=timeout_ms, batch_rows=batch_rows)
