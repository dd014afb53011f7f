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
``Warehouse.open_stream`` does for every SQLAlchemy adapter, from the hooks they already have):

* ``connect()`` — a read connection (context manager) from the fenced pool;
* ``begin(connection, timeout_ms)`` — fence the transaction (READ ONLY, the engine's own limit);
* ``cursor(raw)`` — a DBAPI cursor that streams (server-side where the engine has one);
* ``column(name, description_entry)`` — the :class:`StreamColumn` the cursor says (``kind=None``
  when the engine types per value, as SQLite does: the encoder infers it);
* ``interrupter(raw)`` — stops the statement in flight; must be safe from another thread;
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

from sqlalchemy import Connection

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


@dataclass(frozen=True)
class StreamHooks:
    connect: Callable[[], contextlib.AbstractContextManager[Connection]]
    begin: Callable[[Connection, int], None]
    cursor: Callable[[Any], Any]
    column: Callable[[str, Any], StreamColumn]
    interrupter: Callable[[Any], Callable[[], None]]
    translate: Callable[..., GatewayError]
    driver_errors: tuple[type[BaseException], ...]


def untyped_column(name: str, _entry: Any) -> StreamColumn:
    """For engines that type each value (SQLite): the encoder infers the column's type."""
    return StreamColumn(name, None)


def plain_cursor(raw: Any) -> Any:
    return raw.cursor()


class RowStream:
    """An open streamed query: ``columns``, then :meth:`batches`; closed by ``close`` (or ``with``)."""

    def __init__(self, hooks: StreamHooks, sql: str, *, timeout_ms: int,
                 batch_rows: int = DEFAULT_BATCH_ROWS) -> None:
        self._hooks = hooks
        self._batch_rows = batch_rows
        self._budget_s = timeout_ms / 1000
        self._cancelled = threading.Event()
        # cancel() comes from another thread: it must never reach a connection already back in
        # the pool (it would stop someone else's statement).
        self._lock = threading.Lock()
        self._interrupt: Callable[[], None] | None = None
        self._raw: Any = None
        self._stack = contextlib.ExitStack()
        try:
            connection = self._stack.enter_context(hooks.connect())
            self._raw = connection.connection.driver_connection
            with self._lock:
                self._interrupt = hooks.interrupter(self._raw)
            with self._fetching():
                hooks.begin(connection, timeout_ms)
                self._cursor = hooks.cursor(self._raw)
                self._stack.callback(_close_quietly, self._cursor)
                self._cursor.execute(sql)
            if not self._cursor.description:
                raise WarehouseError("Only queries that return rows run here.")
            self.columns: tuple[StreamColumn, ...] = tuple(
                hooks.column(str(entry[0]), entry) for entry in self._cursor.description)
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
        with self._lock:
            self._interrupt = None
        with contextlib.suppress(Exception):  # rolling back a cancelled transaction may complain
            self._stack.close()

    def __enter__(self) -> RowStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _close_quietly(cursor: Any) -> None:
    with contextlib.suppress(Exception):
        cursor.close()


def _timeout() -> Timeout:
    return Timeout("The query ran past the statement timeout; add a filter or a limit.")


# --- PostgreSQL's types ------------------------------------------------------------------------

# Type OIDs (pg_type) -> portable kinds; anything else is carried as text.
PG_KINDS: dict[int, str] = {
    16: "BOOLEAN", 20: "INT64", 21: "INT16", 23: "INT32", 26: "INT64", 700: "FLOAT32", 701: "FLOAT64",
    1700: "DECIMAL", 25: "TEXT", 1043: "TEXT", 1042: "TEXT", 19: "TEXT", 18: "TEXT", 1082: "DATE",
    1083: "TIME", 1114: "TIMESTAMP", 1184: "TIMESTAMPTZ", 1186: "INTERVAL", 17: "BINARY", 114: "JSON",
    3802: "JSON", 2950: "UUID",
}


def pg_column(name: str, entry: Any) -> StreamColumn:
    """A psycopg cursor description entry: the type OID, and a NUMERIC's precision and scale."""
    kind = PG_KINDS.get(int(entry.type_code), "TEXT")
    if kind == "DECIMAL":
        return StreamColumn(name, kind, getattr(entry, "precision", None), getattr(entry, "scale", None))
    return StreamColumn(name, kind)
