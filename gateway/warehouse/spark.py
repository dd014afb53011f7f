"""Spark SQL through a Thrift server (HiveServer2 protocol): PyHive's ``hive://`` dialect.

Why the Thrift server and not Spark Connect: it is the SQL endpoint every Spark deployment
already runs for BI tools (Spark's own Thrift server, Kyuubi, Databricks' classic endpoint speak
the same protocol), it has a SQLAlchemy dialect like every other warehouse here, it runs exactly
one statement per request, and it cancels a statement's jobs when asked (``TCancelOperation`` ->
the job group is cancelled, tasks interrupted). Spark Connect would need a gRPC client and the
DataFrame API for what is plain SQL text here.

What the engine enforces, and what this module adds (docs/warehouses.md says the same):

- one statement per request (Spark's parser refuses ``SELECT 1; SELECT 2``);
- ``spark.sql.runSQLOnFiles=false`` (set per session here, and server-wide by a careful operator):
  ``SELECT … FROM parquet.`/path``` is refused as an unknown table;
- ``spark.sql.thriftServer.queryTimeout``: the server cancels a statement past the deadline even
  should the gateway vanish; the gateway cancels at its own deadline first.
- Open-source Spark has **no read-only session or role**: ``INSERT``, DDL, ``SET``, ``reflect()``
  run for any client unless an authorization layer (Unity Catalog grants on Databricks, Apache
  Ranger through Kyuubi's AuthZ extension) refuses them. So before a statement leaves the gateway
  :func:`check_read_only` accepts exactly one query that reads tables, on the planner's own
  allow-list: no DML, DDL, SET, commands, file paths as tables, or functions outside the list
  (``reflect``, ``java_method`` and friends are not on it).

Thrift errors carry a Java stack trace; only the error's first line is ever shown.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from gateway.errors import TableNotFound, Timeout, WarehouseError
from gateway.records import ColumnInfo
from planner.errors import PlannerError
from planner.parse import parse

SQLGLOT_DIALECT = "spark"
# Per-session settings sent once per connection (a Thrift session keeps them): no files as tables;
# the cost-based statistics, so that EXPLAIN COST carries row counts through a plan.
SESSION_SETTINGS = (("spark.sql.runSQLOnFiles", "false"), ("spark.sql.cbo.enabled", "true"))
# Asked for when the session opens: a status poll answers within 50 ms instead of holding the
# request up to 5 s waiting for the statement (HiveServer2's long polling), so the gateway's
# deadline is kept to the poll interval.
OPEN_SESSION = {"set:hiveconf:hive.server2.long.polling.timeout": "50ms"}
_FILE_FORMATS = frozenset({"parquet", "csv", "json", "orc", "text", "avro", "binaryfile", "delta", "xml",
                           "iceberg", "hudi", "jdbc"})
_POLL_FIRST_S, _POLL_MAX_S = 0.005, 0.05
_TYPE_SUFFIX = "_TYPE"
_THRIFT_TYPES = {"INT": "INTEGER", "TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "BIGINT": "BIGINT",
                 "STRING": "TEXT", "VARCHAR": "TEXT", "CHAR": "TEXT", "DOUBLE": "DOUBLE", "FLOAT": "FLOAT",
                 "DECIMAL": "DECIMAL", "BOOLEAN": "BOOLEAN", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP",
                 "BINARY": "BLOB", "NULL": "NULL"}


@dataclass(frozen=True, slots=True)
class SparkResult:
    names: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[list[Any]]
    truncated: bool


def check_read_only(sql: str) -> None:
    """Refuse anything but one query that only reads tables (the fence Spark itself lacks)."""
    try:
        tree = parse(sql, SQLGLOT_DIALECT)
    except PlannerError as exc:
        raise WarehouseError(f"Refused before reaching Spark: {exc.message}") from None
    for table in tree.find_all(exp.Table):
        if table.db.lower() in _FILE_FORMATS or "/" in table.name or ":" in table.name:
            raise WarehouseError("Refused before reaching Spark: queries read registered tables, never files.")


def connect_args() -> dict[str, Any]:
    """The driver's connect arguments, beside those of the URL (host, port, auth, database)."""
    return {"configuration": dict(OPEN_SESSION)}


def session_statements(timeout_ms: int | None = None) -> list[str]:
    statements = [f"SET {key}={value}" for key, value in SESSION_SETTINGS]
    if timeout_ms is not None:
        statements.append(timeout_statement(timeout_ms))
    return statements


def timeout_statement(timeout_ms: int) -> str:
    # Whole seconds on the server; one more than the gateway's deadline, which cancels first.
    return f"SET spark.sql.thriftServer.queryTimeout={math.ceil(timeout_ms / 1000) + 1}s"


def prepare(conn: Any, cursor: Any, timeout_ms: int | None) -> None:
    """Send the session settings once per connection, and the server-side timeout when it changes."""
    if not getattr(conn, "_spyne_prepared", False):
        for statement in session_statements():
            cursor.execute(statement)
        conn._spyne_prepared = True
    if timeout_ms is not None and getattr(conn, "_spyne_timeout_ms", None) != timeout_ms:
        cursor.execute(timeout_statement(timeout_ms))
        conn._spyne_timeout_ms = timeout_ms


def execute(conn: Any, sql: str, *, max_rows: int, timeout_ms: int) -> SparkResult:
    """Run one checked query on a PyHive connection; cancel its Spark jobs at the deadline."""
    from TCLIService.ttypes import TOperationState  # the [spark] extra

    check_read_only(sql)
    deadline = time.perf_counter() + timeout_ms / 1000
    cursor = conn.cursor()
    try:
        prepare(conn, cursor, timeout_ms)
        cursor.execute(sql, async_=True)
        running = (TOperationState.INITIALIZED_STATE, TOperationState.PENDING_STATE,
                   TOperationState.RUNNING_STATE)
        pause = _POLL_FIRST_S
        while True:
            state = cursor.poll().operationState
            if state not in running:
                break
            if time.perf_counter() >= deadline:
                cursor.cancel()
                raise Timeout("The query ran past the statement timeout and its Spark jobs were cancelled; "
                              "add a filter or a limit.")
            time.sleep(min(pause, max(0.0, deadline - time.perf_counter())))
            pause = min(pause * 2, _POLL_MAX_S)
        if state in (TOperationState.CANCELED_STATE, TOperationState.TIMEDOUT_STATE):
            # The server's own deadline (spark.sql.thriftServer.queryTimeout) came first.
            raise Timeout("The query ran past the statement timeout and its Spark jobs were cancelled; "
                          "add a filter or a limit.")
        if state != TOperationState.FINISHED_STATE:
            status = cursor.poll()
            raise classify_message(getattr(status, "errorMessage", None) or "the statement did not finish")
        names = tuple(d[0] for d in cursor.description or ())
        types = tuple(column_type(d[1]) for d in cursor.description or ())
        fetched = cursor.fetchmany(max_rows + 1)
    except (Timeout, WarehouseError, TableNotFound):
        raise
    except Exception as exc:  # the driver's own errors: Thrift status, transport, SASL
        raise classify(exc) from exc
    finally:
        _close(cursor)
    truncated = len(fetched) > max_rows
    return SparkResult(names, types, [list(r) for r in fetched[:max_rows]], truncated)


def column_type(thrift_type: str | None) -> str:
    name = (thrift_type or "NULL").upper().removesuffix(_TYPE_SUFFIX)
    return _THRIFT_TYPES.get(name, name)


def describe(conn: Any, physical_name: str) -> tuple[ColumnInfo, ...]:
    """Columns with types and nullability from Spark's catalog (``DESCRIBE TABLE EXTENDED … AS JSON``).

    Open-source Spark tables have no primary or foreign keys; none are reported.
    """
    cursor = conn.cursor()
    try:
        cursor.execute(f"DESCRIBE TABLE EXTENDED {quote_physical(physical_name)} AS JSON")
        document = json.loads(cursor.fetchone()[0])
    except Exception as exc:
        error = classify(exc)
        if isinstance(error, TableNotFound):
            raise TableNotFound(f"No warehouse table {physical_name!r}; check the name and schema.") from None
        raise error from exc
    finally:
        _close(cursor)
    return tuple(ColumnInfo(name=c["name"], type=_json_type(c.get("type") or {}),
                            nullable=bool(c.get("nullable", True)), primary_key=False, default=None)
                 for c in document.get("columns", ()))


def count_rows(conn: Any, physical_name: str) -> int:
    cursor = conn.cursor()
    try:
        cursor.execute(f"SELECT COUNT(*) FROM {quote_physical(physical_name)}")
        return int(cursor.fetchone()[0])
    except Exception as exc:
        raise classify(exc) from exc
    finally:
        _close(cursor)


_ROW_COUNT = re.compile(r"rowCount=([0-9.E+]+)")


def estimate_rows(conn: Any, sql: str) -> int | None:
    """Spark's own estimate (``EXPLAIN COST``): present once tables are ``ANALYZE``d, else None."""
    check_read_only(sql)
    cursor = conn.cursor()
    try:
        prepare(conn, cursor, None)
        cursor.execute(f"EXPLAIN COST {sql}")
        plan = "\n".join(str(r[0]) for r in cursor.fetchall())
    except Exception:
        return None
    finally:
        _close(cursor)
    optimized = plan.split("== Physical Plan ==")[0]
    found = _ROW_COUNT.search(optimized)
    return int(float(found.group(1))) if found else None


def quote_physical(physical_name: str) -> str:
    return ".".join(f"`{part.replace('`', '``')}`" for part in physical_name.split("."))


def classify(exc: BaseException) -> Exception:
    return classify_message(error_message(exc))


def classify_message(message: str) -> Exception:
    lowered = message.lower()
    if "table_or_view_not_found" in lowered or "42p01" in lowered:
        return TableNotFound("A table of the query does not exist in Spark; refresh the catalog.")
    if "cancel" in lowered or "timeout" in lowered or "timed out" in lowered:
        return Timeout("The query ran past the statement timeout and its Spark jobs were cancelled; "
                       "add a filter or a limit.")
    return WarehouseError("Spark could not run the query: " + message[:300])


def error_message(exc: BaseException) -> str:
    """The first line of what Spark said, without the Java stack trace the Thrift status carries."""
    for arg in getattr(exc, "orig", exc).args or ():
        status = getattr(arg, "status", arg)
        text = getattr(status, "errorMessage", None)
        if text:
            return _first_line(text)
    return _first_line(str(exc)) or type(exc).__name__


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line.removeprefix("Error running query: ")


def _json_type(node: dict[str, Any]) -> str:
    name = str(node.get("name", "unknown")).upper()
    if name == "DECIMAL" and "precision" in node:
        return f"DECIMAL({node['precision']}, {node.get('scale', 0)})"
    if name in ("ARRAY", "MAP", "STRUCT"):
        return name
    return {"INT": "INTEGER", "STRING": "TEXT"}.get(name, name)


def _close(cursor: Any) -> None:
    # Closing a cancelled or failed operation may fail again; there is nothing left to do then.
    with contextlib.suppress(Exception):
        cursor.close()


__all__: Sequence[str] = ("SQLGLOT_DIALECT", "SparkResult", "check_read_only", "count_rows", "describe",
                          "estimate_rows", "execute")
