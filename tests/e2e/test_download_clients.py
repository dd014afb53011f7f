"""The notebook client's DataFrames and `spyne query --format csv|ndjson|arrow --output FILE`, streaming
through POST /previews/{id}/result of a live server (SQLite and PostgreSQL warehouses)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from gateway.cli import main
from gateway.client import SpyneClient, SpyneError, TruncatedDownload
from gateway.warehouse.demo_data import DemoSummary
from tests.e2e.test_queries_e2e import direct
from tests.support.live_gateway import LiveGateway, live_gateway

SQL = "SELECT id, customer_id, status, total FROM orders ORDER BY id"
DIRECT = "SELECT id, customer_id, status, total FROM orders__v2 ORDER BY id"


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path, demo_warehouse: DemoSummary,
         warehouse_url: str) -> Iterator[LiveGateway]:
    with live_gateway(tmp_path, sqlite_template, demo_warehouse, warehouse_url, max_rows=50) as gateway:
        yield gateway


def _expected(warehouse_url: str) -> list[list[object]]:
    return [[r[0], r[1], r[2], float(r[3])] for r in direct(warehouse_url, DIRECT)]


def test_dataframes_stream_every_row(live: LiveGateway, warehouse_url: str) -> None:
    expected = _expected(warehouse_url)
    with SpyneClient(f"{live.url}/graphql", live.token()) as client:
        preview = client.preview(SQL)
        assert len(preview.execute().rows) == 50  # executeQuery stays interactive
        table = preview.to_arrow()
        assert isinstance(table, pa.Table) and table.num_rows == len(expected) == 1000
        assert [[r["id"], r["customer_id"], r["status"], float(r["total"])] for r in table.to_pylist()] == expected
        frame = preview.to_pandas()
        assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["id", "customer_id", "status", "total"]
        assert frame["id"].tolist() == [r[0] for r in expected]
        polars_frame = preview.to_polars()
        assert isinstance(polars_frame, pl.DataFrame) and polars_frame.height == 1000
        assert polars_frame["status"].to_list() == [r[2] for r in expected]
        assert sum(batch.num_rows for batch in preview.iter_batches()) == 1000


def test_client_errors_and_truncation(tmp_path: Path, sqlite_template: Path, demo_warehouse: DemoSummary) -> None:
    with live_gateway(tmp_path, sqlite_template, demo_warehouse, f"sqlite:///{demo_warehouse.path}",
                      max_export_rows=10) as live:
        with SpyneClient(f"{live.url}/graphql", live.token(email="ana@example.com")) as client:
            preview = client.preview(SQL)
            with pytest.warns(TruncatedDownload):
                assert preview.to_arrow().num_rows == 10
            blocked = client.preview("SELECT p.id, c.id FROM products p, customers c")
            with pytest.raises(SpyneError) as refused:
                blocked.to_arrow()
            assert refused.value.code == "GUARDRAIL_BLOCKED"
            with pytest.warns(TruncatedDownload):
                assert blocked.to_arrow(["CARTESIAN_PRODUCT"]).num_rows == 10
        with SpyneClient(f"{live.url}/graphql", live.token(email="bob@example.com")) as other, \
                pytest.raises(SpyneError) as missing:
            other.to_arrow(preview.id)
        assert missing.value.code == "PREVIEW_NOT_FOUND"


def test_a_missing_pyarrow_says_how_to_install_it(live: LiveGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    with SpyneClient(f"{live.url}/graphql", live.token()) as client:
        preview = client.preview(SQL)
        monkeypatch.setitem(sys.modules, "pyarrow", None)
        with pytest.raises(ImportError, match=r"spyne-gateway\[notebook\]"):
            preview.to_arrow()
        monkeypatch.setitem(sys.modules, "polars", None)
        with pytest.raises(ImportError, match=r"to_polars\(\) needs polars"):
            preview.to_polars()


@pytest.mark.parametrize("output_format", ["csv", "ndjson", "arrow"])
def test_spyne_query_streams_to_a_file(live: LiveGateway, warehouse_url: str, tmp_path: Path, output_format: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / f"orders.{output_format}"
    code = main(["query", SQL, "--yes", "--format", output_format, "--output", str(target),
                 "--url", f"{live.url}/graphql", "--token", live.token()])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert "1,000 rows" in err and "done (execution" in err and " in " in err
    expected = _expected(warehouse_url)
    if output_format == "csv":
        with target.open(newline="") as handle:
            rows = list(csv.reader(handle))
        got = [[int(r[0]), int(r[1]), r[2], float(r[3])] for r in rows[1:]]
    elif output_format == "ndjson":
        got = [[d["id"], d["customer_id"], d["status"], float(d["total"])]
               for d in map(json.loads, target.read_text().splitlines())]
    else:
        table = pa.ipc.open_stream(target.read_bytes()).read_all()
        got = [[r["id"], r["customer_id"], r["status"], float(r["total"])] for r in table.to_pylist()]
    assert got == expected


def test_spyne_query_table_is_the_interactive_result(live: LiveGateway, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "SELECT id, status FROM orders ORDER BY id LIMIT 3", "--yes",
                 "--url", f"{live.url}/graphql", "--token", live.token()])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[::2] == ["id", "status"] and len(lines) == 5 and lines[2].split()[::2] == ["1", "delivered"]
    assert "3 rows in" in err
