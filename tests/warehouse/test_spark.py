"""Spark SQL, live: a local Thrift server (one per test run), a throwaway database per session.

Introspection through Spark's catalog, read-only execution with the row cap, a timeout that
cancels the Spark job, the fence (what Spark refuses itself, what the adapter refuses for it),
Spark's estimate, the TPC-H corpus planned for Spark, the whole trust layer over GraphQL, and
downloads (every format, the export row cap, a streamed runaway cancelled at the timeout, a
cancelled stream). The types of a Spark download round-trip in tests/e2e/test_download_types.py.
"""

from __future__ import annotations

import asyncio
import csv
import json
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from gateway.domain import SystemMode
from gateway.errors import TableNotFound, Timeout, WarehouseError
from gateway.warehouse.adapters import spark
from gateway.warehouse.column_stats import EXACT, SAMPLED, measure_distinct
from gateway.warehouse.contract import Warehouse
from gateway.warehouse.registry import open_warehouse
from gateway.warehouse.stream import StreamCancelled
from planner import PlanOptions, plan
from tests.ingestion.conftest import EVENTS_CONTRACT, contract_input
from tests.planner.catalogs import TPCH_TABLES, tpch_catalog, tpch_physical, tpch_queries
from tests.support import spark as spark_support
from tests.support.databases import fresh_sqlite_catalog
from tests.support.harness import Gateway, start_gateway, stop_gateway
from tests.support.streams import arrow_batches

pytestmark = list(spark_support.SPARK_MARKS)

TPCH_SCALE = "0.001"  # about 9k rows in all: Spark spends its time per job, not per row
SPARK_TYPES = {"INTEGER": "INT", "TEXT": "STRING", "REAL": "DOUBLE"}


def _raw(url: str) -> Any:
    from pyhive import hive
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return hive.connect(host=parsed.host, port=parsed.port, username=parsed.username or "spyne",
                        database=parsed.database or "default")


def _run(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    cursor = conn.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        cursor.close()


def _tpchgen() -> str | None:
    local = Path(sys.executable).parent / "tpchgen-cli"
    return str(local) if local.exists() else shutil.which("tpchgen-cli")


@pytest.fixture(scope="module")
def spark_db(spark_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own: a small shop (Parquet tables, orders analysed) and TPC-H (CSV tables)."""
    name = spark_support.fresh_database_name("spyne_test")
    conn = _raw(spark_server)
    _run(conn, f"CREATE DATABASE {name}")
    try:
        _run(conn, f"CREATE TABLE {name}.customers USING parquet AS SELECT * FROM VALUES "
                   "(1, 'Ada', 'UK'), (2, 'Grace', 'US'), (3, 'Linus', 'FI'), (4, 'Edsger', NULL) "
                   "AS t(c_id, name, country)")
        _run(conn, f"CREATE TABLE {name}.orders USING parquet AS SELECT id AS o_id, "
                   "CAST(id % 4 + 1 AS INT) AS customer_id, CAST(id * 1.5 AS DOUBLE) AS amount, "
                   "IF(id % 3 = 0, 'open', 'paid') AS status FROM range(1, 301)")
        # Before any session reads it: a Thrift session caches a table's statistics once it has.
        _run(conn, f"ANALYZE TABLE {name}.orders COMPUTE STATISTICS")
        tool = _tpchgen()
        assert tool is not None, "tpchgen-cli is part of the dev extra"
        data = tmp_path_factory.mktemp("tpch-spark")
        subprocess.run([tool, "csv", "-s", TPCH_SCALE, f"--output-dir={data}"], check=True, capture_output=True)
        for table, (spec, _, _) in TPCH_TABLES.items():
            columns = ", ".join(f"{c} {SPARK_TYPES[t]}" for c, t in (col.split() for col in spec.split(",")))
            with (data / f"{table}.csv").open(newline="") as f:
                assert next(csv.reader(f))  # a header line, which Spark skips
            _run(conn, f"CREATE TABLE {name}.{tpch_physical(table)} ({columns}) USING csv "
                       f"OPTIONS (path '{data / (table + '.csv')}', header 'true')")
        yield spark_support.database_url(spark_server, name)
    finally:
        _run(conn, f"DROP DATABASE IF EXISTS {name} CASCADE")
        conn.close()


@pytest.fixture(scope="module")
def warehouse(spark_db: str) -> Iterator[Warehouse]:
    found = open_warehouse(spark_db, statement_timeout_ms=60_000)
    yield found
    found.dispose()


async def test_introspection_reads_spark_catalog_columns_types_and_counts(warehouse: Warehouse) -> None:
    table = await warehouse.introspect("customers")
    assert [(c.name, c.type, c.primary_key) for c in table.columns] == [
        ("c_id", "INTEGER", False), ("name", "TEXT", False), ("country", "TEXT", False)]
    assert table.row_count == 4 and table.foreign_keys == ()
    assert all(c.nullable for c in table.columns)  # Spark reports every CTAS column nullable


async def test_introspection_of_a_missing_table_is_table_not_found(warehouse: Warehouse) -> None:
    with pytest.raises(TableNotFound):
        await warehouse.introspect("no_such_table")


async def test_query_runs_with_the_row_cap_and_typed_columns(warehouse: Warehouse) -> None:
    result = await warehouse.execute_read_only("SELECT o_id, amount, status FROM orders ORDER BY o_id LIMIT 11",
                                               max_rows=10)
    assert result.truncated and len(result.rows) == 10
    assert result.rows[0] == [1, 1.5, "paid"]
    assert result.columns == (("o_id", "BIGINT"), ("amount", "DOUBLE"), ("status", "TEXT"))


async def test_timeout_cancels_the_spark_job_and_the_server_stays_responsive(warehouse: Warehouse) -> None:
    # 6k x 6k x 1.5k rows in nested loops: hours of both local cores, were it not cancelled.
    runaway = ("SELECT COUNT(*) FROM tpch_lineitem AS a CROSS JOIN tpch_lineitem AS b CROSS JOIN tpch_orders AS c "
               "WHERE a.l_quantity + b.l_quantity + c.o_totalprice > 1e12")
    started = time.perf_counter()
    with pytest.raises(Timeout):
        await warehouse.execute_read_only(runaway, max_rows=10, timeout_ms=1500)
    stopped = time.perf_counter() - started
    assert stopped < 4.0, f"the timeout took {stopped:.1f} s to answer"
    # With the job still running, both local cores would be busy for minutes.
    started = time.perf_counter()
    result = await warehouse.execute_read_only("SELECT COUNT(*) FROM customers", max_rows=10, timeout_ms=30_000)
    assert result.rows == [[4]]
    assert time.perf_counter() - started < 15.0


async def test_the_byte_cap_truncates_at_a_whole_row_and_says_so(warehouse: Warehouse) -> None:
    result = await warehouse.execute_read_only("SELECT o_id, status FROM orders ORDER BY o_id", max_rows=1000,
                                               max_bytes=200)
    assert result.truncated and 0 < len(result.rows) < 300 and result.bytes <= 200
    assert result.rows[0] == [1, "paid"]


async def test_concurrent_queries_each_get_their_own_answer(warehouse: Warehouse) -> None:
    answers = await asyncio.gather(*(warehouse.execute_read_only(
        f"SELECT COUNT(*) FROM orders WHERE customer_id = {n}", max_rows=10) for n in (1, 2, 3, 4)))
    assert [a.rows for a in answers] == [[[75]], [[75]], [[75]], [[75]]]


@pytest.mark.parametrize("sql", [
    "INSERT INTO customers VALUES (9, 'Mallory', 'XX')",
    "CREATE TABLE stolen AS SELECT * FROM customers",
    "DROP TABLE customers",
    "SET spark.sql.runSQLOnFiles=true",
    "SELECT reflect('java.lang.System', 'getProperty', 'user.name')",
    "SELECT * FROM parquet.`/etc`",
    "SELECT * FROM csv.`file:///etc/passwd`",
    "SELECT 1; DROP TABLE customers",
    "CACHE TABLE customers",
    "ADD JAR /tmp/evil.jar",
])
async def test_writes_ddl_settings_files_and_java_calls_are_refused(warehouse: Warehouse, sql: str) -> None:
    with pytest.raises(WarehouseError):
        await warehouse.execute_read_only(sql, max_rows=10)
    assert (await warehouse.execute_read_only("SELECT COUNT(*) FROM customers", max_rows=10)).rows == [[4]]


def test_spark_itself_refuses_file_reads_and_second_statements(spark_db: str) -> None:
    """What the engine enforces on a session configured like the gateway's (no adapter involved)."""
    conn = _raw(spark_db)
    try:
        for statement in spark.session_statements(10_000):
            _run(conn, statement)
        for sql in ("SELECT * FROM parquet.`/etc`", "SELECT 1; SELECT 2"):
            with pytest.raises(Exception) as refused:
                _run(conn, sql)
            assert isinstance(spark.classify(refused.value), TableNotFound | spark.SparkError)
    finally:
        conn.close()


async def test_estimate_comes_from_spark_once_a_table_is_analysed(warehouse: Warehouse) -> None:
    assert await warehouse.explain_rows("SELECT o_id FROM orders") == 300
    assert await warehouse.explain_rows("SELECT c_id FROM customers") is None  # never analysed


async def test_column_distinct_counts_are_measured_on_spark(warehouse: Warehouse) -> None:
    columns = ["o_id", "customer_id", "status"]
    exact = await measure_distinct(warehouse, "orders", columns, 300)
    assert exact.method == EXACT and exact.counts == {"o_id": 300, "customer_id": 4, "status": 2}
    sampled = await measure_distinct(warehouse, "orders", columns, 300, exact_max_cells=1, sample_max_cells=300)
    assert sampled.method == SAMPLED and sampled.rows_read == 100
    assert sampled.counts == {"o_id": 300, "customer_id": 4, "status": 2}


@pytest.mark.parametrize("number", [1, 6, 13, 22])
async def test_tpch_queries_planned_for_spark_run_on_spark(warehouse: Warehouse, number: int) -> None:
    """A sample of the corpus (the goldens hold all 22, as Spark SQL): planned, run, and never empty
    (these four answer at any scale); Q1 equals the hand-written Spark query."""
    planned = plan(dict(tpch_queries())[number], tpch_catalog(), PlanOptions(warehouse_dialect="spark"))
    result = await warehouse.execute_read_only(planned.sql, max_rows=planned.row_cap)
    assert result.rows and len(result.rows) <= planned.row_cap
    if number == 1:
        conn = _raw(warehouse.url)
        try:
            expected = _run(conn, "SELECT l_returnflag, l_linestatus, SUM(l_quantity), COUNT(*) FROM tpch_lineitem "
                                  "WHERE CAST(l_shipdate AS DATE) <= DATE '1998-09-02' GROUP BY 1, 2 ORDER BY 1, 2")
        finally:
            conn.close()
        assert [(r[0], r[1], r[2], r[9]) for r in result.rows] == expected


# --- the whole trust layer over GraphQL --------------------------------------------------------

REGISTER = """mutation($n: String!, $p: String!) { registerTable(input: {name: $n, physicalName: $p}) {
  name state versions { columns { name type nullable } rowCount } } }"""
PREVIEW = """mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id sql dialect estimatedRows
  guardrails { type } } }"""
EXECUTE = """mutation($id: ID!) { executeQuery(previewId: $id) { columns { name type } rows rowCount truncated } }"""


@pytest.fixture
async def spark_gateway(spark_db: str, sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Gateway]:
    gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), spark_db,
                             initial_mode=SystemMode.INGESTION_READY)
    try:
        yield gw
    finally:
        await stop_gateway(gw)


async def test_register_preview_and_execute_through_graphql(spark_gateway: Gateway) -> None:
    for name in ("customers", "orders"):
        registered = (await spark_gateway.ok(REGISTER, {"n": name, "p": name}))["registerTable"]
        assert registered["state"] == "READ_ONLY"
    assert registered["versions"][0]["rowCount"] == 300
    sql = ("SELECT c.country, COUNT(*) AS n FROM orders o JOIN customers c ON o.customer_id = c.c_id "
           "WHERE o.status = 'paid' GROUP BY c.country ORDER BY n DESC, c.country")
    preview = (await spark_gateway.ok(PREVIEW, {"sql": sql}, role="ANALYST"))["previewQuery"]
    assert preview["dialect"] == "spark" and "`orders`" in preview["sql"]
    # Registering measured the columns: three countries and NULL bound the groups.
    assert preview["estimatedRows"] <= 4
    result = (await spark_gateway.ok(EXECUTE, {"id": preview["id"]}, role="ANALYST"))["executeQuery"]
    assert [c["name"] for c in result["columns"]] == ["country", "n"]
    assert sum(row[1] for row in result["rows"]) == 200 and not result["truncated"]


async def test_an_unknown_physical_table_is_table_not_found_over_graphql(spark_gateway: Gateway) -> None:
    assert await spark_gateway.error_code(REGISTER, {"n": "ghost", "p": "ghost"}) == "TABLE_NOT_FOUND"


async def test_the_gateway_says_what_spark_can_do_and_refuses_ingestion_with_a_code(spark_gateway: Gateway) -> None:
    found = (await spark_gateway.ok("query { warehouse { engine dialect capabilities } }"))["warehouse"]
    assert found["engine"] == "spark" and found["dialect"] == "spark"
    assert {"introspection", "statement_timeout", "cancel", "estimate", "byte_cap"} <= set(found["capabilities"])
    assert "ingestion" not in found["capabilities"] and "read_only" not in found["capabilities"]
    body = await spark_gateway.gql(EVENTS_CONTRACT, {"input": contract_input()}, role="ENGINEER")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "WAREHOUSE_UNSUPPORTED"
    assert "spark" in error["message"] and "ingestion" in error["message"]
    ready = await spark_gateway.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["warehouse"]["engine"] == "spark"


async def test_an_unreachable_spark_is_a_coded_error_at_once() -> None:
    down = open_warehouse("hive://spyne@127.0.0.1:1/default", statement_timeout_ms=5_000)
    try:
        started = time.perf_counter()
        for attempt in (down.ping(), down.execute_read_only("SELECT 1", max_rows=1)):
            with pytest.raises(WarehouseError) as refused:
                await attempt
            assert "cannot be reached" in refused.value.message and "127.0.0.1" not in refused.value.message
        assert time.perf_counter() - started < 5.0
    finally:
        down.dispose()


# --- downloads (POST /previews/{id}/result) ------------------------------------------------------

ORDERS_SQL = "SELECT o_id, amount, status FROM orders ORDER BY o_id"


async def _download(gw: Gateway, sql: str, accept: str, overrides: list[str] | None = None) -> Any:
    preview = (await gw.ok(PREVIEW, {"sql": sql}, role="ANALYST"))["previewQuery"]
    return await gw.client.post(f"/previews/{preview['id']}/result", json={"overrides": overrides or []},
                                headers={"Authorization": f"Bearer {gw.token('ANALYST')}", "Accept": accept})


@pytest.fixture
async def download_gateway(spark_db: str, sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Gateway]:
    """Past SPYNE_MAX_ROWS (100) and under SPYNE_MAX_EXPORT_ROWS (1,000): orders (300) whole, lineitem cut."""
    gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), spark_db, max_rows=100,
                             max_export_rows=1_000)
    try:
        for name in ("orders", "tpch_lineitem"):
            await gw.ok(REGISTER, {"n": name, "p": name})
        yield gw
    finally:
        await stop_gateway(gw)


async def test_a_download_streams_every_row_in_every_format(download_gateway: Gateway, spark_db: str) -> None:
    conn = _raw(spark_db)
    try:
        expected = [list(r) for r in _run(conn, "SELECT o_id, amount, status FROM orders ORDER BY o_id")]
    finally:
        conn.close()
    arrow = await _download(download_gateway, ORDERS_SQL, "application/vnd.apache.arrow.stream")
    assert arrow.status_code == 200, arrow.text
    table = pa.ipc.open_stream(arrow.content).read_all()
    assert [(f.name, str(f.type)) for f in table.schema] == [("o_id", "int64"), ("amount", "double"),
                                                             ("status", "string")]
    assert [list(r.values()) for r in table.to_pylist()] == expected and len(expected) == 300
    as_csv = await _download(download_gateway, ORDERS_SQL, "text/csv")
    rows = list(csv.reader(as_csv.text.splitlines()))
    assert rows[0] == ["o_id", "amount", "status"]
    assert [[int(a), float(b), c] for a, b, c in rows[1:]] == expected
    as_ndjson = await _download(download_gateway, ORDERS_SQL, "application/x-ndjson")
    assert [list(json.loads(line).values()) for line in as_ndjson.text.splitlines()] == expected


async def test_the_export_row_cap_truncates_a_spark_download_and_says_so(download_gateway: Gateway) -> None:
    response = await _download(download_gateway, "SELECT l_orderkey, l_comment FROM tpch_lineitem",
                               "application/vnd.apache.arrow.stream")
    assert response.status_code == 200 and response.headers["spyne-max-export-rows"] == "1000"
    batches = arrow_batches(response.content)
    assert sum(b.num_rows for b, _ in batches) == 1_000  # of about 6,000
    assert batches[-1][1] is not None and batches[-1][1][b"spyne.truncated"] == b"true"


async def test_a_streamed_runaway_is_cancelled_at_the_statement_timeout(
        spark_db: str, sqlite_template: Path, tmp_path: Path) -> None:
    gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), spark_db, statement_timeout_ms=1_500)
    try:
        for name in ("tpch_lineitem", "tpch_orders", "customers"):
            await gw.ok(REGISTER, {"n": name, "p": name})
        runaway = ("SELECT COUNT(*) AS n FROM tpch_lineitem AS a CROSS JOIN tpch_lineitem AS b "
                   "CROSS JOIN tpch_orders AS c WHERE a.l_quantity + b.l_quantity + c.o_totalprice > 1e12")
        response = await _download(gw, runaway, "text/csv", ["CARTESIAN_PRODUCT", "EXPLOSIVE_JOIN"])
        assert response.status_code == 504, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
        # The job was cancelled: the server answers the next download.
        again = await _download(gw, "SELECT COUNT(*) AS n FROM customers", "application/x-ndjson")
        assert again.status_code == 200 and again.text == '{"n":4}\n'
    finally:
        await stop_gateway(gw)


def test_a_cancelled_stream_stops_before_its_next_fetch_and_the_pool_serves_again(warehouse: Warehouse) -> None:
    stream = warehouse.open_stream("SELECT l_orderkey FROM tpch_lineitem", batch_rows=500)
    try:
        batches = stream.batches()
        assert len(next(batches)) == 500
        stream.cancel()
        with pytest.raises(StreamCancelled):
            next(batches)
    finally:
        stream.close()
    with warehouse.open_stream("SELECT COUNT(*) FROM customers") as again:
        assert [list(b) for b in again.batches()] == [[(4,)]]
