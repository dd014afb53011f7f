"""`spyne query` and the notebook client against a live server on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.auth import mint_dev_token
from gateway.cli import main
from gateway.cli_query import run_query
from gateway.client import SpyneClient, SpyneError
from gateway.warehouse.demo_data import DemoSummary
from tests.support.harness import DEV_SECRET
from tests.support.live import LiveServer, demo_live_server

SQL = "SELECT country, COUNT(*) AS n FROM customers GROUP BY country ORDER BY country"
DIRECT = "SELECT country, COUNT(*) AS n FROM customers GROUP BY country ORDER BY country"


@pytest.fixture
def live(sqlite_template: Path, tmp_path: Path, demo_warehouse: DemoSummary) -> Iterator[LiveServer]:
    with demo_live_server(tmp_path, sqlite_template, demo_warehouse) as server:
        yield server


def _expected(demo_warehouse: DemoSummary) -> list[list[object]]:
    with sqlite3.connect(demo_warehouse.path) as conn:
        return [list(r) for r in conn.execute(DIRECT)]


def test_spyne_query_prints_csv(live: LiveServer, demo_warehouse: DemoSummary,
                                capsys: pytest.CaptureFixture[str]) -> None:
    token = mint_dev_token(DEV_SECRET, "ana@example.com", "ANALYST", 600)
    code = main(["query", SQL, "--yes", "--format", "csv", "--url", f"{live.url}/graphql", "--token", token])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["country", "n"]
    assert [[r[0], int(r[1])] for r in rows[1:]] == _expected(demo_warehouse)
    assert "customers v1 (READ_ONLY" in err and "rows in" in err


def test_spyne_query_asks_before_running(live: LiveServer) -> None:
    token = mint_dev_token(DEV_SECRET, "ana@example.com", "ANALYST", 600)
    with SpyneClient(f"{live.url}/graphql", token) as client:
        out, err = io.StringIO(), io.StringIO()
        code = run_query(client, SQL, pins={}, dialect=None, overrides=[], assume_yes=False,
                         output_format="json", out=out, err=err, answer=io.StringIO("n\n"))
        assert code == 1 and out.getvalue() == "" and "Not run." in err.getvalue()
        code = run_query(client, SQL, pins={}, dialect=None, overrides=[], assume_yes=False,
                         output_format="json", out=out, err=err, answer=io.StringIO("y\n"))
        assert code == 0 and json.loads(out.getvalue())[0].keys() == {"country", "n"}
        blocked = run_query(client, "SELECT COUNT(*) FROM products, customers", pins={}, dialect=None,
                            overrides=[], assume_yes=True, output_format="table", out=out, err=err,
                            answer=io.StringIO())
        assert blocked == 3 and "--override CARTESIAN_PRODUCT" in err.getvalue()


def test_spyne_query_reports_errors_with_position(live: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    token = mint_dev_token(DEV_SECRET, "ana@example.com", "ANALYST", 600)
    code = main(["query", "SELECT id FROM orders WHERE (id = 1", "--yes", "--url", f"{live.url}/graphql",
                 "--token", token])
    assert code == 2
    assert "INVALID_SQL" in capsys.readouterr().err


def test_notebook_client(live: LiveServer, demo_warehouse: DemoSummary) -> None:
    token = mint_dev_token(DEV_SECRET, "nb@example.com", "VIEWER", 600)
    with SpyneClient(f"{live.url}/graphql", token) as client:
        preview = client.preview(SQL)
        assert "customers v1" in str(preview)
        result = preview.execute()
        assert result.rows == _expected(demo_warehouse)
        assert result.to_dicts()[0].keys() == {"country", "n"}
        with pytest.raises(SpyneError) as refused:
            client.preview("DELETE FROM orders")
        assert refused.value.code == "NOT_A_QUERY"
    with SpyneClient(f"{live.url}/graphql", "bad-token") as client, pytest.raises(SpyneError) as denied:
        client.preview(SQL)
    assert denied.value.code == "UNAUTHENTICATED"
