"""POST /previews/{id}/result over real HTTP (uvicorn on 127.0.0.1), on SQLite and PostgreSQL warehouses:
the rows equal the same SQL run directly, in every format; every check of executeQuery holds; the
caps, the statement timeout and a client that goes away."""

from __future__ import annotations

import csv
import io
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

from gateway.http.downloads import NotAcceptable, negotiate
from gateway.warehouse.demo_data import DemoSummary
from tests.e2e.test_queries_e2e import direct
from tests.support.live_gateway import ARROW, LiveGateway, live_gateway
from tests.support.streams import arrow_batches

ORDERS = "SELECT id, customer_id, status, total FROM orders ORDER BY id"
ORDERS_DIRECT = "SELECT id, customer_id, status, total FROM orders__v2 ORDER BY id"
CROSS = "SELECT i.id, o.id AS order_id, o.status FROM order_items i CROSS JOIN orders o"


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path, demo_warehouse: DemoSummary,
         warehouse_url: str) -> Iterator[LiveGateway]:
    with live_gateway(tmp_path, sqlite_template, demo_warehouse, warehouse_url, max_rows=100) as gateway:
        yield gateway


def _arrow(response: httpx.Response) -> pa.Table:
    return pa.ipc.open_stream(response.content).read_all()


def test_arrow_download_is_the_full_result_past_the_interactive_cap(live: LiveGateway, warehouse_url: str) -> None:
    preview_id = live.preview(ORDERS)
    response = live.download(preview_id, ARROW)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == ARROW
    table = _arrow(response)
    expected = direct(warehouse_url, ORDERS_DIRECT)
    assert len(expected) == 1000 > 100  # past SPYNE_MAX_ROWS: the download has its own cap
    assert table.column_names == ["id", "customer_id", "status", "total"]
    assert [[r["id"], r["customer_id"], r["status"], float(r["total"])] for r in table.to_pylist()] == \
        [[r[0], r[1], r[2], float(r[3])] for r in expected]
    execution_id = int(response.headers["spyne-execution-id"])
    assert live.execution(execution_id, settled=lambda r: r[2] == "OK")[2:] == ("OK", None, 1000)


def test_csv_and_ndjson_carry_the_same_rows(live: LiveGateway, warehouse_url: str) -> None:
    preview_id = live.preview(ORDERS)
    expected = direct(warehouse_url, ORDERS_DIRECT)
    as_csv = live.download(preview_id, "text/csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0] == ["id", "customer_id", "status", "total"]
    assert [[int(r[0]), int(r[1]), r[2], float(r[3])] for r in rows[1:]] == \
        [[r[0], r[1], r[2], float(r[3])] for r in expected]
    as_ndjson = live.download(preview_id, "application/x-ndjson")
    assert as_ndjson.status_code == 200
    lines = [json.loads(line) for line in as_ndjson.text.splitlines()]
    assert [[d["id"], d["customer_id"], d["status"], float(d["total"])] for d in lines] == \
        [[r[0], r[1], r[2], float(r[3])] for r in expected]
    ids = {int(as_csv.headers["spyne-execution-id"]), int(as_ndjson.headers["spyne-execution-id"])}
    assert len(ids) == 2  # one execution recorded per download


def test_every_check_of_execute_query_holds(live: LiveGateway) -> None:
    preview_id = live.preview(ORDERS, email="ana@example.com")

    def refused(response: httpx.Response, status: int, code: str) -> None:
        assert response.status_code == status, response.text
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == code and error["message"]

    refused(live.download(preview_id, token=None), 401, "UNAUTHENTICATED")
    refused(live.download(preview_id, token="not-a-token"), 401, "UNAUTHENTICATED")
    refused(live.download("no-such-preview"), 404, "PREVIEW_NOT_FOUND")
    refused(live.download(preview_id, email="bob@example.com"), 404, "PREVIEW_NOT_FOUND")  # someone else's
    refused(live.download(preview_id, "image/png", email="ana@example.com"), 406, "INVALID_INPUT")
    refused(live.download(preview_id, email="ana@example.com", json={"overrides": ["NOPE"]}), 400, "INVALID_INPUT")

    blocked = live.preview("SELECT p.name, c.name FROM products p, customers c", email="ana@example.com")
    refused(live.download(blocked, email="ana@example.com"), 422, "GUARDRAIL_BLOCKED")
    allowed = live.download(blocked, email="ana@example.com", json={"overrides": ["CARTESIAN_PRODUCT"]})
    assert allowed.status_code == 200 and _arrow(allowed).num_rows == 20 * 200

    live.gql('mutation { deprecateTable(table: "orders", version: 2, reason: "old") { message } }', role="ADMIN")
    refused(live.download(preview_id, email="ana@example.com"), 409, "STALE_PREVIEW")
    statuses = [r[2:4] for r in live.executions()]
    assert statuses.count(("REFUSED", "GUARDRAIL_BLOCKED")) == 1 and ("REFUSED", "STALE_PREVIEW") in statuses


def test_the_download_caps_stop_at_a_row_boundary(tmp_path: Path, sqlite_template: Path,
                                                  demo_warehouse: DemoSummary, warehouse_url: str) -> None:
    with live_gateway(tmp_path, sqlite_template, demo_warehouse, warehouse_url, max_export_rows=250,
                      max_export_bytes=4_000) as live:
        preview_id = live.preview(ORDERS)
        arrow = live.download(preview_id, ARROW)
        batches = arrow_batches(arrow.content)
        assert sum(b.num_rows for b, _ in batches) <= 250
        assert batches[-1][1] is not None and batches[-1][1][b"spyne.truncated"] == b"true"
        assert arrow.headers["spyne-max-export-rows"] == "250"
        as_csv = live.download(preview_id, "text/csv")
        assert len(as_csv.content) <= 4_000 and as_csv.text.endswith("\n")
        rows = list(csv.reader(io.StringIO(as_csv.text)))
        assert 10 < len(rows) - 1 < 250 and all(len(r) == 4 for r in rows)


def test_the_statement_timeout_holds(tmp_path: Path, sqlite_template: Path, demo_warehouse: DemoSummary,
                                     warehouse_url: str) -> None:
    with live_gateway(tmp_path, sqlite_template, demo_warehouse, warehouse_url, statement_timeout_ms=200) as live:
        slow = live.preview("SELECT COUNT(*) AS n FROM order_items a CROSS JOIN order_items b "
                            "CROSS JOIN products c")
        response = live.download(slow, json={"overrides": ["CARTESIAN_PRODUCT", "EXPLOSIVE_JOIN"]})
        assert response.status_code == 504, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
        assert live.executions()[-1][2:4] == ("FAILED", "TIMEOUT")


def test_a_client_that_goes_away_stops_the_query(live: LiveGateway, warehouse_url: str) -> None:
    preview_id = live.preview(CROSS)
    headers = {"Authorization": f"Bearer {live.token()}", "Accept": "text/csv"}
    with httpx.Client(timeout=30) as client, client.stream(
            "POST", f"{live.url}/previews/{preview_id}/result", headers=headers,
            json={"overrides": ["CARTESIAN_PRODUCT"]}) as response:
        assert response.status_code == 200
        execution_id = int(response.headers["spyne-execution-id"])
        next(response.iter_bytes())  # one chunk of 3.3 million rows, then hang up
    record = live.execution(execution_id, settled=lambda r: r[2] != "STREAMING")
    assert record[2] == "CANCELLED" and 0 < record[4] < 3_309_000
    if warehouse_url.startswith("postgresql"):
        _no_download_running(warehouse_url)


def test_a_client_that_goes_away_before_the_first_rows_stops_the_query(tmp_path: Path, sqlite_template: Path,
                                                                       demo_warehouse: DemoSummary,
                                                                       warehouse_url: str) -> None:
    # A COUNT over a cross join has no first row until it is done: the download is still opening
    # (no status line yet) when the client hangs up, and its query must stop then, not at the timeout.
    with live_gateway(tmp_path, sqlite_template, demo_warehouse, warehouse_url, statement_timeout_ms=60_000) as live:
        slow = live.preview("SELECT COUNT(*) AS n FROM order_items a CROSS JOIN order_items b CROSS JOIN products c "
                            "CROSS JOIN customers d")  # minutes of work
        body = json.dumps({"overrides": ["CARTESIAN_PRODUCT", "EXPLOSIVE_JOIN"]}).encode()
        host, port = live.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as conn:
            conn.sendall(f"POST /previews/{slow}/result HTTP/1.1\r\nHost: {host}\r\nAccept: text/csv\r\n"
                         f"Authorization: Bearer {live.token()}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            time.sleep(1.0)  # the query is running
        hung_up = time.monotonic()
        deadline = hung_up + 15
        while not live.executions() and time.monotonic() < deadline:
            time.sleep(0.05)
        stopped_after = time.monotonic() - hung_up
        assert [r[2:5] for r in live.executions()] == [("CANCELLED", None, None)]  # no row was sent
        assert stopped_after < 15  # recorded once the statement stopped; its timeout is 60 s
        if warehouse_url.startswith("postgresql"):
            _no_download_running(warehouse_url)


def _no_download_running(warehouse_url: str) -> None:
    import psycopg

    from tests.support.pg_warehouse import pg_dsn

    deadline = time.monotonic() + 10
    with psycopg.connect(pg_dsn(warehouse_url), autocommit=True) as conn:
        while True:
            running = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                                   "AND query LIKE '%order_items%' AND pid <> pg_backend_pid()").fetchone()
            if running == (0,) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert running == (0,)


def test_execute_query_says_when_more_rows_can_be_downloaded(live: LiveGateway) -> None:
    preview_id = live.preview(ORDERS)
    result = live.gql("mutation($id: ID!) { executeQuery(previewId: $id) { rowCount truncated hasMore downloadUrl } }",
                      {"id": preview_id})["executeQuery"]
    assert result == {"rowCount": 100, "truncated": True, "hasMore": True,
                      "downloadUrl": f"/previews/{preview_id}/result"}
    small = live.preview("SELECT id FROM orders ORDER BY id LIMIT 5")
    result = live.gql("mutation($id: ID!) { executeQuery(previewId: $id) { rowCount hasMore } }",
                      {"id": small})["executeQuery"]
    assert result == {"rowCount": 5, "hasMore": False}


@pytest.mark.parametrize(("accept", "chosen"), [
    (None, "text/csv"), ("*/*", "text/csv"), (ARROW, ARROW), ("application/x-ndjson", "application/x-ndjson"),
    (f"text/csv;q=0.5, {ARROW}", ARROW), (f"{ARROW};q=0.1, text/csv;q=0.9", "text/csv"),
    ("application/json, */*;q=0.1", "text/csv"),
])
def test_accept_negotiation(accept: str | None, chosen: str) -> None:
    assert negotiate(accept) == chosen


@pytest.mark.parametrize("accept", ["application/json", "image/png", f"{ARROW};q=0"])
def test_unsupported_accept_is_refused(accept: str) -> None:
    with pytest.raises(NotAcceptable):
        negotiate(accept)


