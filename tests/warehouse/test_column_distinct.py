"""Distinct counts for the planner's GROUP BY estimates, measured live on every engine: exactly
with COUNT(DISTINCT) on a small table, and from a random sample past the cell bound."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.warehouse.column_stats import EXACT, SAMPLED, measure_distinct
from gateway.warehouse.contract import Warehouse
from gateway.warehouse.registry import open_warehouse
from tests.warehouse.live_adapters import ENGINES, SETUP, live_warehouse, read_url

# 300 rows: 6 channels, 4 regions and NULL, a unique id.
VISITS = (
    "CREATE TABLE visits (id INTEGER NOT NULL, channel VARCHAR(20) NOT NULL, region VARCHAR(20), "
    "amount DECIMAL(10,2), PRIMARY KEY (id))",
    "INSERT INTO visits VALUES " + ", ".join(
        f"({i}, 'c{i % 6}', {'NULL' if i % 5 == 0 else repr('r' + str(i % 4))}, {i % 50}.25)" for i in range(300)),
)
COLUMNS = ["id", "channel", "region", "amount"]


@pytest.fixture(params=ENGINES)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    with live_warehouse(request.param, tmp_path, (*SETUP, *VISITS)) as live:
        opened = open_warehouse(live.url, query_url=read_url(live), statement_timeout_ms=5_000)
        try:
            yield opened
        finally:
            opened.dispose()


async def test_a_small_table_is_counted_exactly(warehouse: Warehouse) -> None:
    found = await measure_distinct(warehouse, "visits", COLUMNS, 300)
    assert found.method == EXACT and found.rows_read == 300
    assert found.counts == {"id": 300, "channel": 6, "region": 4, "amount": 50}


async def test_a_type_the_engine_cannot_compare_is_counted_by_its_text(tmp_path: Path) -> None:
    # PostgreSQL's json has no equality: COUNT(DISTINCT body) fails, COUNT(DISTINCT CAST(body AS TEXT)) runs.
    docs = ("CREATE TABLE docs (id INTEGER, body JSON)",
            """INSERT INTO docs VALUES (1, '{"a": 1}'), (2, '{"a": 1}'), (3, '{"a": 2}'), (4, NULL)""")
    with live_warehouse("postgresql", tmp_path, docs) as live:
        warehouse = open_warehouse(live.url, statement_timeout_ms=5_000)
        try:
            found = await measure_distinct(warehouse, "docs", ["id", "body"], 4)
        finally:
            warehouse.dispose()
    assert found.method == EXACT and found.counts == {"id": 4, "body": 2}


async def test_a_large_postgres_table_is_sampled_by_pages(tmp_path: Path) -> None:
    big = ("CREATE TABLE big AS SELECT g AS id, 'c' || (g % 6) AS channel, g % 1000 AS bucket "
           "FROM generate_series(1, 40000) AS g",)
    with live_warehouse("postgresql", tmp_path, big) as live:
        warehouse = open_warehouse(live.url, statement_timeout_ms=5_000)
        try:
            sql = warehouse.sample_sql('"big"', "id", 100, 40_000)
            assert "TABLESAMPLE SYSTEM" in sql  # 40,000 rows are over a hundred 100-row samples
            found = await measure_distinct(warehouse, "big", ["id", "channel", "bucket"], 40_000,
                                           exact_max_cells=1, sample_max_cells=300)
        finally:
            warehouse.dispose()
    assert found.method == SAMPLED and 20 < found.rows_read <= 200
    assert found.counts["channel"] == 6 and found.counts["id"] == 40_000
    assert 200 < found.counts["bucket"] <= 40_000  # 1,000 in truth; a 100-row sample sees each at most once or twice


async def test_past_the_cell_bound_a_sample_is_read_and_scaled(warehouse: Warehouse) -> None:
    found = await measure_distinct(warehouse, "visits", COLUMNS, 300, exact_max_cells=1_000, sample_max_cells=400)
    # About 100 rows (400 values of 4 columns, at least 100 rows), each row kept with probability 1/3.
    assert found.method == SAMPLED and 40 < found.rows_read < 200
    # Values the sample saw more than once are all there are; a column whose every value was new is a key.
    assert (found.counts["channel"], found.counts["region"], found.counts["id"]) == (6, 4, 300)
