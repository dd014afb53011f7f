"""Types round-trip through a download: integers at their limits, exact decimals, dates, timestamps
with a time zone, NULLs and text in any script, read back by pyarrow from what the endpoint sends
over real HTTP. PostgreSQL types every column; SQLite types every value (dates are text there)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.live_gateway import ARROW, live_gateway
from tests.support.pg_warehouse import pg_dsn

TEXT = 'naïve café — 日本語 🚀 مرحبا עברית "quoted", comma;\nnew line\ttab \\ back'
UTC = dt.UTC
AT = dt.datetime(2024, 3, 10, 9, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-8)))


@pytest.fixture
def pg_probe() -> Iterator[str]:
    url = create_pg_database("spyne_test_types")
    with psycopg.connect(pg_dsn(url)) as conn:
        conn.execute("""CREATE TABLE probe (id INTEGER PRIMARY KEY, big BIGINT, small SMALLINT, n INTEGER, amount NUMERIC(20, 6),
            ratio DOUBLE PRECISION, flag BOOLEAN, day DATE, at TIMESTAMPTZ, local_at TIMESTAMP, label TEXT,
            code VARCHAR(8))""")
        conn.execute("INSERT INTO probe VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                     (1, 9_223_372_036_854_775_807, -32_768, 2_147_483_647, Decimal("12345678901234.123456"), 1e-300,
                      True, dt.date(1, 1, 1), AT, dt.datetime(2024, 12, 31, 23, 59, 59), TEXT, "é"))
        conn.execute("INSERT INTO probe (id) VALUES (2)")
        conn.execute("INSERT INTO probe VALUES (3, -9223372036854775808, 0, -1, -0.000001, -0.5, false, '2024-02-29', "
                     "'2024-06-01 00:00:00+00', '2024-06-01 00:00:00', '', 'x')")
    try:
        yield url
    finally:
        drop_pg_database(url)


def test_postgres_types_round_trip_as_arrow(pg_probe: str, tmp_path: Path, sqlite_template: Path) -> None:
    with live_gateway(tmp_path, sqlite_template, None, pg_probe) as live:
        live.register("probe", "probe")
        preview = live.preview("SELECT * FROM probe ORDER BY id")
        response = live.download(preview, ARROW)
        assert response.status_code == 200, response.text
        table = pa.ipc.open_stream(response.content).read_all()
        assert [(f.name, str(f.type)) for f in table.schema] == [
            ("id", "int32"), ("big", "int64"), ("small", "int16"), ("n", "int32"), ("amount", "decimal128(20, 6)"),
            ("ratio", "double"), ("flag", "bool"), ("day", "date32[day]"), ("at", "timestamp[us, tz=UTC]"),
            ("local_at", "timestamp[us]"), ("label", "string"), ("code", "string")]
        first, empty, third = table.to_pylist()
        assert first == {"id": 1, "big": 9_223_372_036_854_775_807, "small": -32_768, "n": 2_147_483_647,
                         "amount": Decimal("12345678901234.123456"), "ratio": 1e-300, "flag": True,
                         "day": dt.date(1, 1, 1), "at": AT.astimezone(UTC),
                         "local_at": dt.datetime(2024, 12, 31, 23, 59, 59), "label": TEXT, "code": "é"}
        assert first["at"] == AT  # the same instant
        assert empty == {"id": 2, **{k: None for k in first if k != "id"}}
        assert third["big"] == -9_223_372_036_854_775_808 and third["amount"] == Decimal("-0.000001") and third["day"] == dt.date(2024, 2, 29)
        assert third["label"] == ""  # an empty string is not a NULL

        totals = live.preview("SELECT SUM(amount) AS total, AVG(n) AS mean FROM probe")
        summed = pa.ipc.open_stream(live.download(totals, ARROW).content).read_all().to_pylist()
        assert summed == [{"total": Decimal("12345678901234.123455"), "mean": Decimal("1073741823")}]

        as_csv = list(csv.reader(io.StringIO(live.download(preview, "text/csv").text)))
        assert as_csv[1][10] == TEXT and as_csv[2][1:] == [""] * 11 and as_csv[1][4] == "12345678901234.123456"
        lines = [json.loads(line) for line in live.download(preview, "application/x-ndjson").text.splitlines()]
        assert lines[0]["label"] == TEXT and lines[0]["at"] == "2024-03-10T17:30:15.123456+00:00"
        assert lines[1]["flag"] is None and lines[0]["big"] == 9_223_372_036_854_775_807


def test_sqlite_values_round_trip_as_arrow(tmp_path: Path, sqlite_template: Path) -> None:
    warehouse = tmp_path / "probe.db"
    with sqlite3.connect(warehouse) as conn:
        conn.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, n INTEGER, ratio REAL, label TEXT, "
                     "payload BLOB, day DATE)")
        conn.execute("INSERT INTO probe VALUES (?, ?, ?, ?, ?, ?)",
                     (1, 9_223_372_036_854_775_807, 0.1, TEXT, b"\x00\xff", "2024-02-29"))
        conn.execute("INSERT INTO probe (id) VALUES (2)")
        conn.execute("INSERT INTO probe VALUES (3, -9223372036854775808, -2.5, '', x'', '1999-12-31')")
    with live_gateway(tmp_path, sqlite_template, None, f"sqlite:///{warehouse}") as live:
        live.register("probe", "probe")
        preview = live.preview("SELECT * FROM probe ORDER BY id")
        response = live.download(preview, ARROW)
        assert response.status_code == 200, response.text
        table = pa.ipc.open_stream(response.content).read_all()
        assert [(f.name, str(f.type)) for f in table.schema] == [
            ("id", "int64"), ("n", "int64"), ("ratio", "double"), ("label", "string"), ("payload", "binary"),
            ("day", "string")]
        assert table.to_pylist() == [
            {"id": 1, "n": 9_223_372_036_854_775_807, "ratio": 0.1, "label": TEXT, "payload": b"\x00\xff",
             "day": "2024-02-29"},
            {"id": 2, "n": None, "ratio": None, "label": None, "payload": None, "day": None},
            {"id": 3, "n": -9_223_372_036_854_775_808, "ratio": -2.5, "label": "", "payload": b"",
             "day": "1999-12-31"}]
