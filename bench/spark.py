"""Spark through the gateway vs the same SQL through the same driver, side by side in one run.

    .venv/bin/python bench/spark.py [--runs 15]

Needs the [spark,spark-server] extras and Java; starts the local Thrift server of the suite when
none is running (and stops it afterwards). Prints medians for a 100-row query run

  direct    PyHive, the planned SQL, execute + fetchall (the floor)
  adapter   SparkWarehouse.execute_read_only (fence check, async poll, caps)
  gateway   executeQuery of a previewed query over GraphQL (ASGI, SQLite catalog)

and how far past its deadline a runaway query stops (the job cancelled).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.errors import Timeout  # noqa: E402
from gateway.store.engine import migrate  # noqa: E402
from gateway.warehouse.registry import open_warehouse  # noqa: E402
from tests.support import spark_server  # noqa: E402
from tests.support.harness import start_gateway, stop_gateway  # noqa: E402

QUERY = "SELECT id, name, amount FROM items WHERE id <= 100 ORDER BY id"


def _run(conn: object, sql: str) -> list[tuple[object, ...]]:
    cursor = conn.cursor()  # type: ignore[attr-defined]
    try:
        cursor.execute(sql)
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        cursor.close()


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def main(runs: int) -> None:
    from pyhive import hive

    running = spark_server.recorded()
    server = spark_server.wait(running or spark_server.start())
    database = f"spyne_bench_{uuid.uuid4().hex[:8]}"
    conn = hive.connect(host="127.0.0.1", port=server.port, username="spyne")
    try:
        _run(conn, f"CREATE DATABASE {database}")
        _run(conn, f"CREATE TABLE {database}.items USING parquet AS SELECT id, CONCAT('item ', id) AS name, "
                   "CAST(id * 1.25 AS DOUBLE) AS amount FROM range(1, 1001)")
        # The runaway's table: CSV, read row by row, so a cancelled task notices between rows. A
        # nested-loop join over one Parquet batch never looks up and holds the cores long after its
        # cancel (docs/warehouses.md, Spark).
        _run(conn, f"CREATE TABLE {database}.numbers USING csv AS SELECT id AS i FROM range(1, 200001)")
        url = f"hive://spyne@127.0.0.1:{server.port}/{database}"
        direct = hive.connect(host="127.0.0.1", port=server.port, username="spyne", database=database)
        warehouse = open_warehouse(url, statement_timeout_ms=60_000)
        with tempfile.TemporaryDirectory() as tmp:
            catalog = f"sqlite:///{Path(tmp) / 'catalog.db'}"
            migrate(catalog)
            gw = await start_gateway(catalog, url)
            try:
                await gw.ok('mutation { registerTable(input: {name: "items", physicalName: "items"}) { name } }')
                preview = (await gw.ok("mutation($s: String!) { previewQuery(input: {sql: $s}) { id sql } }",
                                       {"s": QUERY}, role="ANALYST"))["previewQuery"]
                planned = preview["sql"]
                execute = "mutation($id: ID!) { executeQuery(previewId: $id) { rowCount } }"
                times: dict[str, list[float]] = {"direct": [], "adapter": [], "gateway": []}
                for _ in range(3):  # warm-up: JIT, codegen, the session's settings
                    _run(direct, planned)
                    await warehouse.execute_read_only(planned, max_rows=10_000)
                    await gw.ok(execute, {"id": preview["id"]}, role="ANALYST")
                for _ in range(runs):  # interleaved, so load on the machine hits all three alike
                    t = time.perf_counter()
                    assert len(await asyncio.to_thread(_run, direct, planned)) == 100
                    times["direct"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    assert len((await warehouse.execute_read_only(planned, max_rows=10_000)).rows) == 100
                    times["adapter"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    result = await gw.ok(execute, {"id": preview["id"]}, role="ANALYST")
                    assert result["executeQuery"]["rowCount"] == 100
                    times["gateway"].append(time.perf_counter() - t)
                floor = _median_ms(times["direct"])
                print(f"Spark, a 100-row query, median of {runs} (ms):")
                for name, samples in times.items():
                    print(f"  {name:8s} {_median_ms(samples):8.1f}   x{_median_ms(samples) / floor:.2f}")

                runaway = "SELECT COUNT(*) FROM numbers a CROSS JOIN numbers b WHERE a.i + b.i < 0"
                late: list[float] = []
                freed: list[float] = []
                for _ in range(3):
                    t = time.perf_counter()
                    try:
                        await warehouse.execute_read_only(runaway, max_rows=10, timeout_ms=2000)
                    except Timeout:
                        late.append(time.perf_counter() - t - 2.0)
                    # The answer is on time; whether the job really stopped shows in the next query,
                    # which waits for a core while the cancelled tasks still hold them.
                    t = time.perf_counter()
                    await warehouse.execute_read_only("SELECT COUNT(*) FROM items", max_rows=10, timeout_ms=60_000)
                    freed.append(time.perf_counter() - t)
                print(f"runaway query, deadline 2 s: TIMEOUT {statistics.median(late) * 1000:.0f} ms past it; the "
                      f"next query answered in {statistics.median(freed) * 1000:.0f} ms (median of {len(late)})")
            finally:
                await stop_gateway(gw)
                warehouse.dispose()
                direct.close()
    finally:
        _run(conn, f"DROP DATABASE IF EXISTS {database} CASCADE")
        conn.close()
        if running is None:
            spark_server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    asyncio.run(main(parser.parse_args().runs))
