"""Spark downloads (``streamed_reads``): the Spark adapter's :class:`~gateway.warehouse.stream.StreamHooks`.

The statement runs as every Spark read does (:func:`spark.run_until`: checked against the
allow-list, submitted asynchronously, polled, cancelled at the deadline). Then the rows, which
the Thrift server has collected by the time the statement is finished, come in Thrift fetches of
``FETCH_ROWS``; a download whose reader goes away stops before its next fetch.

Nothing touches the connection from another thread: a PyHive connection's Thrift transport is one
socket that two threads must not write at once. The stream's interrupter (a cancel, or the
watchdog at the deadline) only raises a flag that the polling reads: the statement is cancelled
from the polling thread. A fetch only reads a finished result; one that outlives the budget still
ends the download with TIMEOUT when it returns.

Types come from the result set's metadata, with a DECIMAL's precision and scale (PyHive's
description leaves out the type qualifiers), and DATE values, which Thrift sends as text, become
dates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

from pyhive import hive

from gateway.warehouse.stream import StreamColumn, StreamHooks
from gateway.warehouse.stream_kinds import spark_column

FETCH_ROWS = 10_000  # rows per Thrift fetch (PyHive's default is 1,000)


class SparkStreamCursor(hive.Cursor):  # type: ignore[misc]
    """A PyHive cursor that reports typed columns and hands DATE values over as dates."""

    _dates: tuple[int, ...] = ()

    def stream_columns(self) -> tuple[StreamColumn, ...]:
        from TCLIService import ttypes  # the [spark] extra

        response = self._connection.client.GetResultSetMetadata(
            ttypes.TGetResultSetMetadataReq(self._operationHandle))
        hive._check_status(response)
        columns = []
        for column in response.schema.columns:
            entry = column.typeDesc.types[0].primitiveEntry
            type_name = ttypes.TTypeId._VALUES_TO_NAMES[entry.type] if entry is not None else "STRING_TYPE"
            qualifiers = (entry.typeQualifiers.qualifiers or {}) if entry is not None and entry.typeQualifiers \
                else {}
            precision, scale = (getattr(qualifiers.get(k), "i32Value", None) for k in ("precision", "scale"))
            columns.append(spark_column(column.columnName, type_name, precision, scale))
        self._dates = tuple(i for i, c in enumerate(columns) if c.kind == "DATE")
        return tuple(columns)

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows: list[Any] = super().fetchmany(size)
        if not self._dates or not rows:
            return rows
        dates = self._dates
        return [tuple(_date(v) if i in dates else v for i, v in enumerate(row)) for row in rows]


def _date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def stream_hooks(connect: Callable[[], contextlib.AbstractContextManager[Any]],
                 run_until: Callable[..., None], translate: Callable[..., Any]) -> StreamHooks:
    """``connect`` yields a PyHive connection; ``run_until`` is :func:`spark.run_until`. One
    stream's hooks: ``stopped`` is that stream's."""
    stopped = threading.Event()

    def execute(cursor: Any, sql: str, timeout_ms: int) -> None:
        run_until(cursor._connection, cursor, sql, deadline=time.perf_counter() + timeout_ms / 1000,
                  timeout_ms=timeout_ms, stop=stopped.is_set)

    def close(cursor: Any) -> None:
        with contextlib.suppress(Exception):  # a cancelled or failed operation may fail to close
            cursor.close()

    return StreamHooks(
        connect=connect, driver=lambda raw: raw, begin=lambda _raw, _ms: None,
        cursor=lambda raw: SparkStreamCursor(raw, arraysize=FETCH_ROWS), release_cursor=close,
        execute=execute, columns=lambda cursor: cursor.stream_columns(),
        interrupter=lambda _raw: stopped.set, translate=translate,
        # Thrift's transport and protocol errors are not PEP 249 errors: everything the driver
        # raises goes through the adapter's translator (first line of Spark's message, coded).
        driver_errors=(Exception,))

