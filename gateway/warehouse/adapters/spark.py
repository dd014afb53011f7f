"""Spark SQL through a Thrift server (the HiveServer2 protocol), with PyHive's ``hive://`` dialect.

Why the Thrift server and not Spark Connect: it is the SQL endpoint Spark deployments already run
for BI tools (Spark's own Thrift server, Apache Kyuubi, Databricks' classic endpoint), it has a
SQLAlchemy dialect like every other adapter, it runs exactly one statement per request, and
cancelling a statement (``TCancelOperation``) cancels its job group and interrupts its tasks.
Spark Connect would need a gRPC client and the DataFrame API for what is plain SQL here.

What Spark enforces, and what this adapter adds (docs/warehouses.md says the same):

- Spark runs one statement per request, and with ``spark.sql.runSQLOnFiles=false`` (set on every
  session here) ``SELECT … FROM parquet.`/path``` is an unknown table.
- Open-source Spark has **no read-only session or role**: ``INSERT``, DDL, ``SET``, ``ADD JAR`` and
  ``reflect()`` run for any client unless an authorization layer refuses them (Unity Catalog
  grants, Apache Ranger through Kyuubi). So every statement is checked here before it leaves:
  exactly one query whose every node and function is on the planner's allow-list, and no file
  path or file format as a table. The capability ``read_only`` (the *engine* keeps the connection
  from writing) is therefore not declared.
- The timeout: the statement runs asynchronously and is polled (the session asks HiveServer2 for
  50 ms long polling); at the deadline the adapter cancels it, and the session's
  ``spark.sql.thriftServer.queryTimeout`` (one second later) is the server's own backstop.
- Estimates: ``EXPLAIN COST`` row counts, present once tables are analysed (the session enables
  cost-based statistics so counts carry through a plan).
- No ingestion: Spyne's managed tables need transactional upserts and an atomic swap, which plain
  Parquet tables lack; ``WAREHOUSE_UNSUPPORTED``.

Errors: Thrift statuses carry a Java stack trace, so a driver error becomes :class:`SparkError`
holding only the first line of Spark's message, and goes through the gateway's one translator
(:mod:`gateway.warehouse.errors`: scrubbed, logged, coded); a missing table stays TABLE_NOT_FOUND
and a cancelled statement TIMEOUT.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlglot import exp

from gateway.errors import GatewayError, TableNotFound, Timeout, WarehouseError
from gateway.records import ColumnInfo
from gateway.warehouse.contract import Capabilities, Capability, IntrospectedTable, ResultSet
from gateway.warehouse.engine import SqlWarehouse, fetch_capped
from gateway.warehouse.errors import register_driver_errors
from gateway.warehouse.stream import DEFAULT_BATCH_ROWS, CancelSwitch, RowStream
from planner.errors import PlannerError
from planner.parse import parse

CAPABILITIES = Capabilities(
    engine="spark", dialect="spark", install_extra="spark",
    supported=frozenset({Capability.INTROSPECTION, Capability.ROW_CAP, Capability.BYTE_CAP,
                         Capability.STATEMENT_TIMEOUT, Capability.CANCEL, Capability.ESTIMATE,
                         Capability.COLUMN_STATS, Capability.JOIN_STATS, Capability.STREAMED_READS}),
    notes={Capability.INTROSPECTION: "DESCRIBE TABLE EXTENDED … AS JSON; Spark tables have no keys",
           Capability.STATEMENT_TIMEOUT: "spark.sql.thriftServer.queryTimeout (server backstop)",
           Capability.CANCEL: "TCancelOperation at the deadline: the job group is cancelled",
           Capability.ESTIMATE: "EXPLAIN COST (analysed tables)",
           Capability.STREAMED_READS: "asynchronous statement polled and cancelled at the deadline; the "
                                      "finished result fetched in batches; types from the result metadata"},
)

# Per-session settings, sent once per connection (a Thrift session keeps them).
SESSION_SETTINGS = (("spark.sql.runSQLOnFiles", "false"), ("spark.sql.cbo.enabled", "true"))
# Asked for when the session opens: a status poll answers within 50 ms instead of waiting up to
# 5 s for the statement to finish (HiveServer2's long polling), so the deadline is kept.
OPEN_SESSION = {"set:hiveconf:hive.server2.long.polling.timeout": "50ms"}
# A session caches table metadata and statistics: connections are renewed after five minutes.
POOL_RECYCLE_S = 300
TIMEOUT_MESSAGE = "The query ran past the statement timeout and its Spark jobs were cancelled; add a filter or a limit."


class SparkError(Exception):
    """What Spark or the Thrift transport said, first line only: a driver error for the translator."""


# PyHive's exceptions and Thrift's transport errors are not recognisable as PEP 249 drivers' own.
register_driver_errors(SparkError)
_FILE_FORMATS = frozenset({"parquet", "csv", "json", "orc", "text", "avro", "binaryfile", "delta", "xml",
                           "iceberg", "hudi", "jdbc"})
_POLL_FIRST_S, _POLL_MAX_S = 0.005, 0.05
_THRIFT_TYPES = {"INT": "INTEGER", "STRING": "TEXT", "VARCHAR": "TEXT", "CHAR": "TEXT", "BINARY": "BLOB"}
_ROW_COUNT = re.compile(r"rowCount=([0-9.E+]+)")


class SparkWarehouse(SqlWarehouse):
    capabilities = CAPABILITIES

    def _make_admin_engine(self) -> Engine:
        return create_engine(self._url, pool_recycle=POOL_RECYCLE_S,
                             connect_args={"configuration": dict(OPEN_SESSION)})

    def _make_read_engine(self) -> Engine:
        if self._query_url is None:
            return self.engine
        return create_engine(self._query_url, pool_recycle=POOL_RECYCLE_S,
                             connect_args={"configuration": dict(OPEN_SESSION)})

    async def ping(self) -> None:
        def _ping() -> None:
            with self._raw(self._read_engine) as raw:
                cursor = raw.cursor()
                try:
                    cursor.execute("SELECT 1")
                    cursor.fetchall()
                except Exception as exc:
                    raise SparkError(error_message(exc)) from exc
                finally:
                    _close(cursor)

        await self.run(_ping)  # a SparkError comes out translated: "cannot be reached" or refused

    def text_cast(self, expression: str) -> str:
        return f"CAST({expression} AS STRING)"

    def random_sql(self) -> None:
        # rand() is not on the planner's allow-list that every Spark statement passes: first rows.
        return None

    # --- introspection from Spark's catalog ---------------------------------------------------

    def _introspect(self, physical_name: str) -> IntrospectedTable:
        with self._raw(self.engine) as raw:
            columns = describe(raw, physical_name)
            return IntrospectedTable(physical_name, columns, (), count_rows(raw, physical_name))

    # --- execution: asynchronous, polled, cancelled at the deadline -----------------------------

    def _execute(self, sql: str, max_rows: int, timeout_ms: int, max_bytes: int) -> ResultSet:
        started = time.perf_counter()
        with self._raw(self._read_engine) as raw:
            cursor = raw.cursor()
            try:
                run_until(raw, cursor, sql, deadline=time.perf_counter() + timeout_ms / 1000,
                          timeout_ms=timeout_ms)
                description = cursor.description or ()
                rows, truncated, size = fetch_capped(cursor.fetchmany, max_rows, max_bytes)
            except (GatewayError, SparkError):
                raise
            except Exception as exc:  # the driver's own: Thrift status, transport, SASL
                raise classify(exc) from exc
            finally:
                _close(cursor)
        columns = tuple((d[0], column_type(d[1])) for d in description)
        return ResultSet(columns=columns, rows=rows, truncated=truncated,
                         elapsed_ms=(time.perf_counter() - started) * 1000, bytes=size)

    def open_stream(self, sql: str, *, batch_rows: int = DEFAULT_BATCH_ROWS,
                    timeout_ms: int | None = None, switch: CancelSwitch | None = None) -> RowStream:
        """Downloads: the statement polled like every read (:mod:`.spark_stream` says how)."""
        from gateway.warehouse.adapters.spark_stream import stream_hooks

        self.require(Capability.STREAMED_READS)
        hooks = stream_hooks(lambda: self._raw(self._read_engine), run_until, self.translate)
        return RowStream(hooks, sql, timeout_ms=timeout_ms or self.statement_timeout_ms, batch_rows=batch_rows,
                         switch=switch)

    async def explain_rows(self, sql: str) -> int | None:
        def _explain() -> int | None:
            with self._raw(self._read_engine) as raw:
                return estimate_rows(raw, sql)

        try:
            return await self.run(_explain)
        except GatewayError:
            return None  # an estimate is advice: without one the preview says so

    @contextlib.contextmanager
    def _raw(self, engine: Engine) -> Any:
        """The PyHive connection of a pooled SQLAlchemy connection.

        A connection whose transport broke (the server restarted, the network cut it) is thrown
        away with the rest of the pool: every pooled Thrift session died with it, and a pre-ping
        would cost a Spark statement on every checkout."""
        try:
            with engine.connect() as conn:
                try:
                    yield conn.connection.driver_connection
                except BaseException as exc:
                    if _transport_broke(exc):
                        conn.invalidate()
                        engine.dispose()
                    raise
        except (GatewayError, SparkError):
            raise
        except Exception as exc:  # connecting: SQLAlchemy's wrapper, Thrift transport, SASL, socket
            raise SparkError(error_message(exc)) from exc

    def translate(self, exc: BaseException, *, timed_out: bool = False) -> GatewayError:
        if timed_out:
            return Timeout(TIMEOUT_MESSAGE)
        found = classify(exc)
        return found if isinstance(found, GatewayError) else self.errors.coded(found)


def _transport_broke(exc: BaseException) -> bool:
    """The error, or one it came from, is the connection itself failing (not a statement's error)."""
    from thrift.transport.TTransport import TTransportException

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, TTransportException | OSError | EOFError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# --- the pieces, as functions of a PyHive connection (the suite calls some directly) --------------

def check_read_only(sql: str) -> None:
    """Refuse anything but one query that only reads tables: the fence Spark itself lacks."""
    try:
        tree = parse(sql, "spark")
    except PlannerError as exc:
        raise WarehouseError(f"Refused before reaching Spark: {exc.message}") from None
    for table in tree.find_all(exp.Table):
        if table.db.lower() in _FILE_FORMATS or "/" in table.name or ":" in table.name:
            raise WarehouseError("Refused before reaching Spark: queries read registered tables, never files.")


def session_statements(timeout_ms: int | None = None) -> list[str]:
    statements = [f"SET {key}={value}" for key, value in SESSION_SETTINGS]
    if timeout_ms is not None:
        statements.append(timeout_statement(timeout_ms))
    return statements


def timeout_statement(timeout_ms: int) -> str:
    # Whole seconds on the server, one more than the gateway's deadline, which cancels first.
    return f"SET spark.sql.thriftServer.queryTimeout={math.ceil(timeout_ms / 1000) + 1}s"


def prepare(conn: Any, cursor: Any, timeout_ms: int | None) -> None:
    """The session settings once per connection; the server-side timeout whenever it changes."""
    if not getattr(conn, "_spyne_prepared", False):
        for statement in session_statements():
            cursor.execute(statement)
        conn._spyne_prepared = True
    if timeout_ms is not None and getattr(conn, "_spyne_timeout_ms", None) != timeout_ms:
        cursor.execute(timeout_statement(timeout_ms))
        conn._spyne_timeout_ms = timeout_ms


def run_until(conn: Any, cursor: Any, sql: str, *, deadline: float, timeout_ms: int,
              stop: Callable[[], bool] | None = None) -> None:
    """Submit one checked query and poll it; at the deadline cancel it (its Spark jobs stop), and
    as soon as ``stop()`` says so (a download's reader went away), with a driver error for the
    caller to classify."""
    from TCLIService.ttypes import TOperationState  # the [spark] extra

    check_read_only(sql)
    prepare(conn, cursor, timeout_ms)
    cursor.execute(sql, async_=True)
    running = (TOperationState.INITIALIZED_STATE, TOperationState.PENDING_STATE, TOperationState.RUNNING_STATE)
    pause = _POLL_FIRST_S
    while True:
        status = cursor.poll()
        state = status.operationState
        if state not in running:
            break
        if time.perf_counter() >= deadline:
            cursor.cancel()
            raise Timeout(TIMEOUT_MESSAGE)
        if stop is not None and stop():
            cursor.cancel()
            raise SparkError("the statement was stopped")
        time.sleep(min(pause, max(0.0, deadline - time.perf_counter())))
        pause = min(pause * 2, _POLL_MAX_S)
    if state in (TOperationState.CANCELED_STATE, TOperationState.TIMEDOUT_STATE):
        raise Timeout(TIMEOUT_MESSAGE)  # the server's own deadline came first
    if state != TOperationState.FINISHED_STATE:
        raise classify_message(_first_line(status.errorMessage or "") or "the statement did not finish")
    if cursor.description is None:
        raise WarehouseError("Only queries that return rows run here.")


def column_type(thrift_type: str | None) -> str:
    name = (thrift_type or "NULL").upper().removesuffix("_TYPE")
    return _THRIFT_TYPES.get(name, name)


def describe(conn: Any, physical_name: str) -> tuple[ColumnInfo, ...]:
    """Columns, types and nullability from Spark's catalog (``DESCRIBE TABLE EXTENDED … AS JSON``,
    Spark 4.0+). PyHive's SQLAlchemy reflection returns a list for primary keys and raises for a
    missing table; open-source Spark tables have no primary or foreign keys, so none are reported."""
    cursor = conn.cursor()
    try:
        cursor.execute(f"DESCRIBE TABLE EXTENDED {quote_physical(physical_name)} AS JSON")
        document = json.loads(cursor.fetchone()[0])
    except Exception as exc:
        error = classify(exc)
        if isinstance(error, TableNotFound):
            raise TableNotFound(f"No warehouse table {physical_name!r}; check the name and schema.") from None
        if error is exc:
            raise
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
    except (GatewayError, SparkError):
        raise
    except Exception as exc:
        raise classify(exc) from exc
    finally:
        _close(cursor)


def estimate_rows(conn: Any, sql: str) -> int | None:
    """Spark's own estimate (``EXPLAIN COST``): the optimized plan's row count, or None."""
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
    found = _ROW_COUNT.search(plan.split("== Physical Plan ==")[0])
    return int(float(found.group(1))) if found else None


def quote_physical(physical_name: str) -> str:
    return ".".join(f"`{part.replace('`', '``')}`" for part in physical_name.split("."))


def classify(exc: BaseException) -> GatewayError | SparkError:
    if isinstance(exc, GatewayError | SparkError):
        return exc
    return classify_message(error_message(exc))


def classify_message(message: str) -> GatewayError | SparkError:
    """A missing table and a cancelled statement keep their own codes; anything else is the
    driver's error, for :mod:`gateway.warehouse.errors` to translate."""
    lowered = message.lower()
    if "table_or_view_not_found" in lowered or "42p01" in lowered:
        return TableNotFound("A table of the query does not exist in Spark; refresh the catalog.")
    if "operation cancelled" in lowered or "operation canceled" in lowered or "query timed out" in lowered:
        return Timeout(TIMEOUT_MESSAGE)
    return SparkError(message)


def error_message(exc: BaseException) -> str:
    """The first line of what Spark said, without the Java stack trace of the Thrift status."""
    origin = getattr(exc, "orig", None) or exc
    for arg in origin.args or ():
        text = getattr(getattr(arg, "status", arg), "errorMessage", None)
        if text:
            return _first_line(text)
    return _first_line(str(exc)) or type(exc).__name__


def _first_line(text: str) -> str:
    """Spark's message without the stack trace: its first line, and the next when the first only
    names the exception (``[PARSE_SYNTAX_ERROR] …ParseException:``)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    first = lines[0].removeprefix("Error running query: ")
    return f"{first} {lines[1]}" if first.endswith(":") and len(lines) > 1 else first


def _json_type(node: dict[str, Any]) -> str:
    name = str(node.get("name", "unknown")).upper()
    if name == "DECIMAL" and "precision" in node:
        return f"DECIMAL({node['precision']}, {node.get('scale', 0)})"
    return {"INT": "INTEGER", "STRING": "TEXT"}.get(name, name)


def _close(cursor: Any) -> None:
    # Closing a cancelled or failed operation may fail again; there is nothing left to do then.
    with contextlib.suppress(Exception):
        cursor.close()
