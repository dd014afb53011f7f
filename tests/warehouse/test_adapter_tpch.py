"""The TPC-H corpus on every live adapter: planned for the adapter's dialect, executed through the
adapter, it returns exactly what the engine returns for the same SQL run directly on its driver.

Data: tpchgen-cli at scale 0.01 (about 87k rows, generated offline), loaded once per engine.
"""

from __future__ import annotations

import csv
import math
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.warehouse.registry import open_warehouse
from planner import PlanOptions, plan
from tests.planner.catalogs import TPCH_TABLES, tpch_catalog, tpch_physical, tpch_queries
from tests.planner.test_planner_tpch_sqlite import INDEXES, SCALE, _tpchgen
from tests.warehouse.live_adapters import ENGINES, LiveWarehouse, live_warehouse

pytestmark = pytest.mark.slow

DATES = {"o_orderdate", "l_shipdate", "l_commitdate", "l_receiptdate"}
# Column types per engine: SQLite keeps the catalog's own; the others get real dates and doubles.
TYPES: dict[str, Callable[[str, str], str]] = {
    "sqlite": lambda _name, type_: type_,
    "postgresql": lambda name, type_: "DATE" if name in DATES else
    {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION"}.get(type_, "VARCHAR(200)"),
    "duckdb": lambda name, type_: "DATE" if name in DATES else
    {"INTEGER": "BIGINT", "REAL": "DOUBLE"}.get(type_, "VARCHAR"),
    "mysql": lambda name, type_: "DATE" if name in DATES else
    {"INTEGER": "BIGINT", "REAL": "DOUBLE"}.get(type_, "VARCHAR(200)"),
}
QUERIES = tpch_queries()


@pytest.fixture(scope="module")
def tpch_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tool = _tpchgen()
    if tool is None:
        pytest.skip("tpchgen-cli is not installed (pip install tpchgen-cli)")
    data = tmp_path_factory.mktemp("tpch-csv")
    subprocess.run([tool, "csv", "-s", SCALE, f"--output-dir={data}"], check=True, capture_output=True)
    return data


def _ddl(engine: str) -> list[str]:
    statements = []
    for name, (spec, _, _) in TPCH_TABLES.items():
        columns = [c.split() for c in spec.split(",")]
        defs = ", ".join(f"{n} {TYPES[engine](n, t)}" for n, t in columns)
        statements.append(f"CREATE TABLE {tpch_physical(name)} ({defs})")
    return statements


def _indexes() -> list[str]:
    made = []
    for index in INDEXES:
        table, _, cols = index.partition("(")
        made.append(f"CREATE INDEX ix_{table}_{cols.strip(')').replace(', ', '_')} "
                    f"ON {tpch_physical(table)} ({cols}")
    return made


@pytest.fixture(scope="module", params=ENGINES)
def tpch(request: pytest.FixtureRequest, tpch_csv: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWarehouse]:
    engine = request.param
    with live_warehouse(engine, tmp_path_factory.mktemp(f"tpch-{engine}"), setup=_ddl(engine)) as live:
        for name, (spec, _, _) in TPCH_TABLES.items():
            with (tpch_csv / f"{name}.csv").open(newline="") as f:
                reader = csv.reader(f)
                next(reader)
                live.load(tpch_physical(name), len(spec.split(",")), list(reader))
        live.admin(_indexes())  # after the load: cheaper than maintaining them row by row
        yield live


def _same(direct: list[tuple[Any, ...]], gateway: list[tuple[Any, ...]]) -> bool:
    def close(a: Any, b: Any) -> bool:
        if isinstance(a, float) and isinstance(b, float):  # parallel sums may differ in the last bit
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        return bool(a == b)

    if len(direct) != len(gateway):
        return False
    ordered = sorted(direct, key=repr), sorted(gateway, key=repr)
    return all(len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
               for a, b in zip(*ordered, strict=True)) or all(
        all(close(x, y) for x, y in zip(a, b, strict=True)) for a, b in zip(direct, gateway, strict=True))


@pytest.mark.parametrize(("number", "sql"), QUERIES, ids=[f"q{n}" for n, _ in QUERIES])
async def test_tpch_query_through_the_adapter_equals_the_engine_run_directly(
        tpch: LiveWarehouse, number: int, sql: str) -> None:
    warehouse = open_warehouse(tpch.url, query_url=tpch.query_url, statement_timeout_ms=60_000)
    try:
        planned = plan(sql, tpch_catalog(), PlanOptions(warehouse_dialect=warehouse.dialect))
        # Every planned query runs on every engine: a preview that is valid does not fail there.
        direct = tpch.direct(planned.sql)
        result = await warehouse.execute_read_only(planned.sql, max_rows=100_000)
        assert not result.truncated
        assert _same(direct, [tuple(r) for r in result.rows]), (direct[:3], result.rows[:3])
    finally:
        warehouse.dispose()
