"""Streamed reads: a query's rows in batches from the warehouse cursor, with the column types.

A download must never hold its whole result: the query runs on a fenced read connection with a
cursor that streams (a named server-side cursor on PostgreSQL; SQLite steps its statement as rows
are fetched), and rows come out ``batch_rows`` at a time through the DBAPI cursor itself (no
Row objects per value).

The statement timeout holds for the time spent *in the warehouse* — the sum of the fetches — not
the time the client takes to read: a slow reader is not a slow query. Each fetch is guarded by
the process's watchdog with what is left of it (the adapter's interrupter stops the work at the
deadline, even inside one fetch).

Engine-agnostic: an adapter hands :class:`RowStream` its :class:`StreamHooks` (what
``Warehouse.open_stream`` does for every SQLAlchemy adapter from the hooks they already have; the
DuckDB adapter builds its own from its native pool):

* ``connect()`` — a read connection (context manager) from the fenced pool, and ``driver(handle)``
  its DBAPI connection (SQLAlchemy's ``driver_connection`` by default);
* ``begin(handle, timeout_ms)`` — fence the transaction (READ ONLY, the engine's own limit);
* ``cursor(raw)`` — a DBAPI cursor that streams (server-side where the engine has one), and
  ``release_cursor(cursor)`` when the stream closes;
* ``execute(cursor, sql, timeout_ms)`` — run the one query (the cursor's ``execute`` by default);
* ``columns(cursor)`` — the :class:`StreamColumn` the executed cursor says (``kind=None`` when the
  engine types per value, as SQLite does: the encoder infers it);
* ``interrupter(raw)`` — stops the statement in flight; must be safe from another thread;
* ``abandon(handle)`` — when the stream stops before its last row, before the cursor is released:
  for a driver whose unbuffered cursor would otherwise read the rest of the result (MySQL), the
  statement is stopped and the connection closed instead of going back to the pool;
* ``translate(exc, timed_out)`` — the driver's error as a coded gateway error.

Everything here is synchronous and runs in a worker thread; :meth:`RowStream.cancel` is the one
call that may come from another thread.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.errors import GatewayError, Timeout, WarehouseError
from gateway.warehouse.watchdog import WATCHDOG

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


def untyped_column(name: str, _entry: Any) -> StreamColumn:
    """For engines that type each value (SQLite): the encoder infers the column's type."""
    return StreamColumn(name, None)


def described(column: Callable[[str, Any], StreamColumn]) -> Callable[[Any], tuple[StreamColumn, ...]]:
    """Columns from a DBAPI cursor's description, one entry at a time."""
    def columns(cursor: Any) -> tuple[StreamColumn, ...]:
        return tuple(column(str(entry[0]), entry) for entry in cursor.description)

    return columns


def sqlalchemy_driver(handle: Any) -> Any:
    return handle.connection.driver_connection


def plain_execute(cursor: Any, sql: str, _timeout_ms: int) -> None:
    cursor.execute(sql)


def close_quietly(cursor: Any) -> None:
    with contextlib.suppress(Exception):
        cursor.close()


@dataclass(frozen=True)
class StreamHooks:
    connect: Callable[[], contextlib.AbstractContextManager[Any]]
    begin: Callable[[Any, int], None]
    cursor: Callable[[Any], Any]
    columns: Callable[[Any], tuple[StreamColumn, ...]]
    interrupter: Callable[[Any], Callable[[], None]]
    translate: Callable[..., GatewayError]
    driver_errors: tuple[type[BaseException], ...]
    driver: Callable[[Any], Any] = sqlalchemy_driver
    execute: Callable[[Any, str, int], None] = plain_execute
    release_cursor: Callable[[Any], None] = close_quietly
    abandon: Callable[[Any], None] | None = None


class CancelSwitch:
    """Cancels a stream from another thread, even before it exists: a download's reader may go
    away while its query is still being opened (the statement's first rows can take as long as
    the whole query). A stream built with the switch attaches itself once it holds a connection;
    a cancel before that stops it before its statement starts, a cancel after it interrupts it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stream: RowStream | None = None
        self._cancelled = False

    def attach(self, stream: RowStream) -> None:
        with self._lock:
            self._stream = stream
            cancelled = self._cancelled
        if cancelled:
            stream.cancel()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            stream = self._stream
        if stream is not None:
            stream.cancel()


class RowStream:
    """An open streamed query: ``columns``, then :meth:`batches`; closed by ``close`` (or ``with``)."""

    def __init__(self, hooks: StreamHooks, sql: str, *, timeout_ms: int,
                 batch_rows: int = DEFAULT_BATCH_ROWS, switch: CancelSwitch | None = None) -> None:
        self._hooks = hooks
        self._batch_rows = batch_rows
        self._budget_s = timeout_ms / 1000
        self._cancelled = threading.Event()
        # cancel() comes from another thread: it must never reach a connection already back in
        # the pool (it would stop someone else's statement).
        self._lock = threading.Lock()
        self._interrupt: Callable[[], None] | None = None
        self._handle: Any = None
        self._exhausted = False
        self._stack = contextlib.ExitStack()
        try:
            self._handle = self._stack.enter_context(hooks.connect())
            raw = hooks.driver(self._handle)
            with self._lock:
                self._interrupt = hooks.interrupter(raw)
            if switch is not None:
                switch.attach(self)
            if self._cancelled.is_set():
                raise StreamCancelled("the download was cancelled before its query started")
            with self._fetching():
                hooks.begin(self._handle, timeout_ms)
                self._cursor = hooks.cursor(raw)
                self._stack.callback(hooks.release_cursor, self._cursor)
                hooks.execute(self._cursor, sql, timeout_ms)
            if not self._cursor.description:
                raise WarehouseError("Only queries that return rows run here.")
            self.columns: tuple[StreamColumn, ...] = hooks.columns(self._cursor)
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
                self._exhausted = True
                return
            yield rows
            size = self._batch_rows

    @contextlib.contextmanager
    def _fetching(self) -> Iterator[None]:
        """One call into the warehouse, guarded by the watchdog with what is left of the budget."""
        if self._budget_s <= 0:
            raise _timeout()
        started = time.monotonic()
        guard = None
        try:
            with WATCHDOG.guard(started + self._budget_s, self._interrupt_now) as guard:
                yield
        except GatewayError:
            raise
        except self._hooks.driver_errors as exc:
            if self._cancelled.is_set():
                raise StreamCancelled("the download was cancelled") from exc
            raise self._hooks.translate(exc, timed_out=guard is not None and guard.fired) from exc
        finally:
            self._budget_s -= time.monotonic() - started
        if guard is not None and guard.fired:
            raise _timeout()

    def _interrupt_now(self) -> None:
        with self._lock:
            if self._interrupt is not None:
                with contextlib.suppress(Exception):  # the statement may have just finished
                    self._interrupt()

    def cancel(self) -> None:
        """From any thread: stop the statement in flight and the batches after it."""
        self._cancelled.set()
        self._interrupt_now()

    def close(self) -> None:
        if not self._exhausted and self._hooks.abandon is not None and self._handle is not None:
            # Before the cursor is released (and while cancel() may still interrupt): the
            # statement is stopped and its connection never goes back to the pool.
            with contextlib.suppress(Exception):
                self._hooks.abandon(self._handle)
        with self._lock:
            self._interrupt = None
        with contextlib.suppress(Exception):  # rolling back a cancelled transaction may complain
            self._stack.close()

    def __enter__(self) -> RowStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _timeout() -> Timeout:
    return Timeout("The query ran past the statement timeout; add a filter or a limit.")
