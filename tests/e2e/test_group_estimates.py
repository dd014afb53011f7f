"""GROUP BY estimates from measured column statistics, end to end: a table registered through
GraphQL is measured, its distinct counts reach the planner, and ``previewQuery`` estimates a
6-group GROUP BY over thousands of rows at 6 and says why — on a SQLite catalog and warehouse, and
on a PostgreSQL catalog and warehouse (whose own EXPLAIN guesses the groups until ANALYZE)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.warehouse.adapters.sqlite import CAPABILITIES, SqliteWarehouse
from gateway.warehouse.column_stats import EXACT, SAMPLED, duj1, measure_distinct
from gateway.warehouse.contract import Capability
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.harness import Gateway, start_gateway, stop_gateway
from tests.support.pg_warehouse import pg_dsn

ROWS = 3_000
CHANNELS = ("web", "app", "store", "phone", "partner", "email")  # six groups
REGISTER = """mutation($n: String!, $p: String!) { registerTable(input: {name: $n, physicalName: $p}) {
  name versions { rowCount } } }"""
PREVIEW = """mutation($sql: String!) { previewQuery(input: {sql: $sql}) { estimatedRows assumptions } }"""
REFRESH = "mutation($t: String!) { refreshSchema(table: $t) { severity } }"
AUDIT = "{ auditLog(first: 50) { events { action entityId before after } } }"
BY_CHANNEL = "SELECT channel, COUNT(*) FROM visits GROUP BY channel"


def _rows(start: int = 0, count: int = ROWS, channels: tuple[str, ...] = CHANNELS) -> list[tuple[Any, ...]]:
    # `region` is NULL on every seventh row: a nullable key adds its NULL group.
    return [(i, channels[i % len(channels)], None if i % 7 == 0 else f"r{i % 4}", i % 250)
            for i in range(start, start + count)]


CREATE = ("CREATE TABLE visits (id INTEGER PRIMARY KEY, channel TEXT NOT NULL, region TEXT, "
          "amount INTEGER NOT NULL)")


def _sqlite_warehouse(path: Path, rows: list[tuple[Any, ...]]) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute(CREATE)
        conn.executemany("INSERT INTO visits VALUES (?, ?, ?, ?)", rows)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_warehouse(tmp_path: Path) -> str:
    return _sqlite_warehouse(tmp_path / "visits.db", _rows())


@pytest.fixture
def pg_warehouse() -> Iterator[str]:
    url = create_pg_database("spyne_test_estimates")
    try:
        with psycopg.connect(pg_dsn(url)) as conn:
            conn.execute(CREATE.replace("INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY"))
            with conn.cursor().copy("COPY visits (id, channel, region, amount) FROM STDIN") as copy:
                for row in _rows():
                    copy.write_row(row)
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
async def gw(catalog_url: str, sqlite_warehouse: str) -> AsyncIterator[Gateway]:
    """Either catalog (SQLite, PostgreSQL) over a SQLite warehouse of its own."""
    gateway = await start_gateway(catalog_url, sqlite_warehouse)
    try:
        yield gateway
    finally:
        await stop_gateway(gateway)


async def _preview(gw: Gateway, sql: str = BY_CHANNEL) -> dict[str, Any]:
    return (await gw.ok(PREVIEW, {"sql": sql}, role="VIEWER"))["previewQuery"]  # type: ignore[no-any-return]


def _group_basis(preview: dict[str, Any]) -> list[str]:
    return [a for a in preview["assumptions"] if a.startswith("GROUP BY")]


async def test_a_six_group_group_by_is_estimated_at_six(gw: Gateway) -> None:
    await gw.ok(REGISTER, {"n": "visits", "p": "visits"})
    preview = await _preview(gw)
    assert preview["estimatedRows"] == 6
    assert _group_basis(preview) == ["GROUP BY channel is estimated at 6 groups from the catalog's distinct "
                                     "counts (channel 6; counted exactly)"]
    assert "estimates come from catalog row counts" in preview["assumptions"]
    # A nullable key adds its NULL group; two keys multiply.
    two = await _preview(gw, "SELECT channel, region, COUNT(*) FROM visits GROUP BY channel, region")
    assert two["estimatedRows"] == 6 * (4 + 1)
    assert "region 4 + NULL" in _group_basis(two)[0]
    # An expression has no statistic: a tenth of the rows, and the preview says why.
    expression = await _preview(gw, "SELECT amount % 10, COUNT(*) FROM visits GROUP BY amount % 10")
    assert expression["estimatedRows"] == ROWS // 10
    assert "has no distinct count" in _group_basis(expression)[0]


async def test_registering_audits_the_statistics_measured(gw: Gateway) -> None:
    await gw.ok(REGISTER, {"n": "visits", "p": "visits"})
    events = (await gw.ok(AUDIT))["auditLog"]["events"]
    (registered,) = [e for e in events if e["action"] == "registerTable"]
    assert registered["after"]["statistics"] == {
        "method": EXACT, "rowsRead": ROWS, "distinct": {"id": ROWS, "channel": 6, "region": 4, "amount": 250}}


async def test_refresh_measures_again_and_is_audited(gw: Gateway, sqlite_warehouse: str) -> None:
    await gw.ok(REGISTER, {"n": "visits", "p": "visits"})
    with sqlite3.connect(sqlite_warehouse.removeprefix("sqlite:///")) as conn:
        conn.executemany("INSERT INTO visits VALUES (?, ?, ?, ?)", _rows(ROWS, 100, ("kiosk",)))
    assert (await gw.ok(REFRESH, {"t": "visits"}))["refreshSchema"]["severity"] == "COMPATIBLE"
    preview = await _preview(gw)
    assert preview["estimatedRows"] == 7  # the new channel, seen by the next plan (the epoch moved)
    table = await gw.ok('{ table(name: "visits") { versions { rowCount } } }')
    assert table["table"]["versions"] == [{"rowCount": ROWS + 100}]
    events = (await gw.ok(AUDIT))["auditLog"]["events"]
    (refreshed,) = [e for e in events if e["action"] == "refreshSchema"]
    assert refreshed["before"]["statistics"]["distinct"]["channel"] == 6
    assert refreshed["after"]["statistics"]["distinct"]["channel"] == 7
    assert (refreshed["before"]["rowCount"], refreshed["after"]["rowCount"]) == (ROWS, ROWS + 100)


async def test_a_warehouse_without_column_stats_registers_tables_without_statistics(gw: Gateway) -> None:
    warehouse = gw.services.deps.warehouse
    assert isinstance(warehouse, SqliteWarehouse)
    # The adapter's declaration, as an engine lacking the capability would make it.
    warehouse.capabilities = replace(CAPABILITIES, supported=CAPABILITIES.supported - {Capability.COLUMN_STATS})
    registered = await gw.ok(REGISTER, {"n": "visits", "p": "visits"})
    assert registered["registerTable"]["versions"] == [{"rowCount": ROWS}]
    preview = await _preview(gw)
    assert preview["estimatedRows"] == ROWS // 10
    assert _group_basis(preview) == [f"GROUP BY channel is estimated at 10% of its {ROWS:,} rows: the catalog "
                                     "has no distinct count of channel"]
    # A refresh on it measures nothing and changes nothing.
    assert (await gw.ok(REFRESH, {"t": "visits"}))["refreshSchema"]["severity"] == "COMPATIBLE"
    assert (await _preview(gw))["estimatedRows"] == ROWS // 10


async def test_postgres_catalog_and_warehouse_estimate_six_groups(pg_catalog_database: str,
                                                                  pg_warehouse: str) -> None:
    from tests.support.databases import reset_pg_catalog

    reset_pg_catalog(pg_catalog_database)
    gw = await start_gateway(pg_catalog_database, pg_warehouse)
    try:
        await gw.ok(REGISTER, {"n": "visits", "p": "visits"})
        preview = await _preview(gw)
        assert preview["estimatedRows"] == 6
        assert _group_basis(preview)[0].startswith("GROUP BY channel is estimated at 6 groups from the catalog's")
        # PostgreSQL's EXPLAIN is the estimate; it guesses 200 groups of a table it never analysed,
        # and the catalog's distinct counts cap it (or, once analysed, it says 6 itself).
        said = [a for a in preview["assumptions"] if a.startswith("the row estimate is the warehouse's")]
        assert said and "estimates come from catalog row counts" not in preview["assumptions"]
    finally:
        await stop_gateway(gw)


# --- the measurement's rule, on a real warehouse ------------------------------------------------

async def test_a_large_table_is_sampled_and_its_counts_estimated(tmp_path: Path) -> None:
    rows = [(i, CHANNELS[i % 6], None if i % 7 == 0 else f"r{i % 4}", i) for i in range(40_000)]
    url = _sqlite_warehouse(tmp_path / "big.db", rows)
    warehouse = SqliteWarehouse(url)
    try:
        columns = ["id", "channel", "region", "amount"]
        exact = await measure_distinct(warehouse, "visits", columns, len(rows))
        assert exact.method == EXACT and exact.counts == {"id": 40_000, "channel": 6, "region": 4, "amount": 40_000}
        # Past the cell bound: about 2,500 rows (10,000 values of 4 columns) drawn over the whole
        # table, and Duj1 from them.
        sampled = await measure_distinct(warehouse, "visits", columns, len(rows), exact_max_cells=10_000,
                                         sample_max_cells=10_000)
        assert sampled.method == SAMPLED and 2_000 < sampled.rows_read < 3_000
        assert sampled.counts["channel"] == 6 and sampled.counts["region"] == 4
        assert sampled.counts["id"] == 40_000  # every sampled value once: a key
    finally:
        warehouse.dispose()


def test_duj1_scales_what_a_sample_saw_once() -> None:
    # 1,000 values each twice in 100,000 rows: a 2,000-row sample of the first rows sees 1,000 of them.
    assert duj1([i // 2 for i in range(2_000)], 2_000, 100_000) == 1_000
    # Half the sample seen once: more distinct values than the sample holds, fewer than the rows.
    values = [i for i in range(500)] + [1_000 + i // 2 for i in range(1_000)]
    found = duj1(values, 1_500, 1_000_000)
    assert 1_000 < found < 1_000_000
    assert duj1([], 100, 1_000) == 0
