"""POST /previews/{id}/result over real HTTP on the engines beside SQLite and PostgreSQL (whose demo
warehouse tests/e2e/test_downloads.py uses): DuckDB and MySQL/MariaDB, each a fresh live
warehouse of the contract suite. Every format carries every row past the interactive cap, the
export caps stop at a row boundary, the statement timeout stops a streamed runaway query, and a
client that hangs up stops the query on the server. Spark's downloads are in
tests/warehouse/test_spark.py (its server and marks); the types of every engine round-trip in
tests/e2e/test_download_types.py."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest

from tests.support.live_gateway import ARROW, LiveGateway, live_gateway
from tests.support.streams import arrow_batches, settles
from tests.warehouse.live_adapters import SETUP, LiveWarehouse, live_warehouse

ROWS = 3_000
NUMBERS = ("CREATE TABLE numbers (n INTEGER NOT NULL, label VARCHAR(20), PRIMARY KEY (n))",)
ORDERED = "SELECT n, label FROM numbers ORDER BY n"
# 2.7e10 combinations that must all be looked at: minutes on any engine, were it not stopped.
RUNAWAY = ("SELECT COUNT(*) AS c FROM numbers a CROSS JOIN numbers b CROSS JOIN numbers c "
           "WHERE a.n * b.n + c.n = 4500")  # reachable: no engine may prove it empty from statistics
PAIRS = "SELECT a.n, b.n AS m FROM numbers a CROSS JOIN numbers b"  # 9 million rows
OVERRIDES = {"overrides": ["CARTESIAN_PRODUCT", "EXPLOSIVE_JOIN"]}


@pytest.fixture(params=["duckdb", "mysql"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveWarehouse]:
    with live_warehouse(request.param, tmp_path / "warehouse", (*SETUP, *NUMBERS)) as live:
        live.load("numbers", 2, [[str(i), f"n{i} é中😀"] for i in range(1, ROWS + 1)])
        yield live


@contextmanager
def _served(tmp_path: Path, sqlite_template: Path, warehouse: LiveWarehouse, **settings: Any
            ) -> Iterator[LiveGateway]:
    """A live gateway over the warehouse (queries through its read-only login), numbers registered."""
    with live_gateway(tmp_path, sqlite_template, None, warehouse.url, warehouse_query_url=warehouse.query_url,
                      **settings) as live:
        live.register("numbers", "numbers")
        yield live


def test_every_format_carries_every_row_past_the_interactive_cap(
        warehouse: LiveWarehouse, tmp_path: Path, sqlite_template: Path) -> None:
    expected = [[n, label] for n, label in warehouse.direct(ORDERED)]
    assert len(expected) == ROWS
    with _served(tmp_path, sqlite_template, warehouse, max_rows=100) as live:
        preview = live.preview(ORDERED)
        arrow = live.download(preview, ARROW)
        assert arrow.status_code == 200, arrow.text
        table = pa.ipc.open_stream(arrow.content).read_all()
        assert [[r["n"], r["label"]] for r in table.to_pylist()] == expected
        execution_id = int(arrow.headers["spyne-execution-id"])
        assert live.execution(execution_id, settled=lambda r: r[2] == "OK")[2:] == ("OK", None, ROWS)

        as_csv = live.download(preview, "text/csv")
        rows = list(csv.reader(io.StringIO(as_csv.text)))
        assert rows[0] == ["n", "label"] and [[int(n), label] for n, label in rows[1:]] == expected
        as_ndjson = live.download(preview, "application/x-ndjson")
        assert [[d["n"], d["label"]] for d in map(json.loads, as_ndjson.text.splitlines())] == expected


def test_the_export_caps_stop_at_a_row_boundary_and_say_so(
        warehouse: LiveWarehouse, tmp_path: Path, sqlite_template: Path) -> None:
    with _served(tmp_path, sqlite_template, warehouse, max_export_rows=250, max_export_bytes=2_000) as live:
        preview = live.preview(ORDERED)
        arrow = live.download(preview, ARROW)
        assert arrow.headers["spyne-max-export-rows"] == "250"
        batches = arrow_batches(arrow.content)
        assert 0 < sum(b.num_rows for b, _ in batches) <= 250
        assert batches[-1][1] is not None and batches[-1][1][b"spyne.truncated"] == b"true"
        as_csv = live.download(preview, "text/csv")
        assert len(as_csv.content) <= 2_000 and as_csv.text.endswith("\n")
        rows = list(csv.reader(io.StringIO(as_csv.text)))
        assert 10 < len(rows) - 1 < 250 and all(len(r) == 2 for r in rows)
        assert [int(r[0]) for r in rows[1:]] == list(range(1, len(rows)))  # whole rows, in order


def test_the_statement_timeout_stops_a_streamed_runaway_query(
        warehouse: LiveWarehouse, tmp_path: Path, sqlite_template: Path) -> None:
    with _served(tmp_path, sqlite_template, warehouse, statement_timeout_ms=300) as live:
        response = live.download(live.preview(RUNAWAY), json=OVERRIDES)
        assert response.status_code == 504, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
        assert live.executions()[-1][2:4] == ("FAILED", "TIMEOUT")
        assert settles(lambda: warehouse.running() == 0)
        again = live.download(live.preview("SELECT COUNT(*) AS c FROM numbers"), "application/x-ndjson")
        assert again.status_code == 200 and json.loads(again.text) == {"c": ROWS}


def test_a_client_that_goes_away_stops_the_query(
        warehouse: LiveWarehouse, tmp_path: Path, sqlite_template: Path) -> None:
    with _served(tmp_path, sqlite_template, warehouse) as live:
        preview = live.preview(PAIRS)
        headers = {"Authorization": f"Bearer {live.token()}", "Accept": "text/csv"}
        with httpx.Client(timeout=30) as client, client.stream(
                "POST", f"{live.url}/previews/{preview}/result", headers=headers, json=OVERRIDES) as response:
            assert response.status_code == 200
            execution_id = int(response.headers["spyne-execution-id"])
            next(response.iter_bytes())  # one chunk of nine million rows, then hang up
        record = live.execution(execution_id, settled=lambda r: r[2] != "STREAMING")
        assert record[2] == "CANCELLED" and 0 < record[4] < ROWS * ROWS
        assert settles(lambda: warehouse.running() == 0)  # MySQL: killed, its connection closed
        again = live.download(live.preview("SELECT COUNT(*) AS c FROM numbers"), "application/x-ndjson")
        assert again.status_code == 200 and json.loads(again.text) == {"c": ROWS}

