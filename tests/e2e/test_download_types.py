"""Types round-trip through a download: integers at their limits, exact decimals, dates, timestamps
with a time zone, NULLs and text in any script, read back by pyarrow from what the endpoint sends
over real HTTP. PostgreSQL, DuckDB, MySQL/MariaDB and Spark type every column (a table per engine
below); SQLite types every value (dates are text there)."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pytest

from tests.support import spark as spark_support
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.live_gateway import ARROW, live_gateway
from tests.support.pg_warehouse import pg_dsn
from tests.warehouse.live_adapters import live_warehouse

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
        assert as_csv[3][4] == "-0.000001"  # a NUMERIC's exact text, never the float's "-1e-06"
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


# --- DuckDB, MySQL/MariaDB, Spark: one probe table per engine -----------------------------------

# Any script, quotes, a comma, a newline and a tab (no backslash: MySQL reads one as an escape).
WORDS = 'naïve café — 日本語 é中😀 مرحبا "quoted", comma;\nnew line\ttab'
LITERAL = "'" + WORDS.replace("'", "''") + "'"


@dataclass(frozen=True)
class Probe:
    setup: tuple[str, ...]  # the table ``probe``: row 1 typed values, row 2 NULLs (but the id)
    schema: list[tuple[str, str]]  # Arrow's (name, type) of SELECT * FROM probe
    first: dict[str, Any]  # row 1 as pyarrow reads it back
    csv_amount: str  # row 1's exact decimal as CSV text


PROBES: dict[str, Probe] = {
    "duckdb": Probe(
        ("CREATE TABLE probe (id INTEGER PRIMARY KEY, big BIGINT, small SMALLINT, huge HUGEINT, "
         "amount DECIMAL(20, 6), ratio DOUBLE, flag BOOLEAN, day DATE, stamp TIMESTAMPTZ, local_stamp TIMESTAMP, "
         "label VARCHAR)",
         "INSERT INTO probe VALUES (1, 9223372036854775807, -32768, 170141183460469231731687303715884105727, "
         f"12345678901234.123456, 1e-300, true, '0001-01-01', '2024-03-10 09:30:15.123456-08', "
         f"'2024-12-31 23:59:59', {LITERAL})",
         "INSERT INTO probe (id) VALUES (2)"),
        [("id", "int32"), ("big", "int64"), ("small", "int16"), ("huge", "decimal256(39, 0)"),
         ("amount", "decimal128(20, 6)"), ("ratio", "double"), ("flag", "bool"), ("day", "date32[day]"),
         ("stamp", "timestamp[us, tz=UTC]"), ("local_stamp", "timestamp[us]"), ("label", "string")],
        {"id": 1, "big": 9_223_372_036_854_775_807, "small": -32_768, "huge": Decimal(2**127 - 1),  # HUGEINT's largest: 39 digits
         "amount": Decimal("12345678901234.123456"), "ratio": 1e-300, "flag": True, "day": dt.date(1, 1, 1),
         "stamp": AT.astimezone(UTC), "local_stamp": dt.datetime(2024, 12, 31, 23, 59, 59), "label": WORDS},
        "12345678901234.123456"),
    # MySQL has no time-zone type: TIMESTAMP comes back as the session's local time (UTC here).
    "mysql": Probe(
        ("CREATE TABLE probe (id INT PRIMARY KEY, big BIGINT, ubig BIGINT UNSIGNED, small SMALLINT, "
         "amount DECIMAL(20, 6), ratio DOUBLE, day DATE, stamp TIMESTAMP(6) NULL, local_stamp DATETIME, "
         "label VARCHAR(200), payload VARBINARY(8)) DEFAULT CHARSET utf8mb4",
         "SET time_zone = '+00:00'",
         "INSERT INTO probe VALUES (1, 9223372036854775807, 18446744073709551615, -32768, 12345678901234.123456, "
         f"1e-300, '1000-01-01', '2024-03-10 17:30:15.123456', '2024-12-31 23:59:59', {LITERAL}, x'00ff')",
         "INSERT INTO probe (id) VALUES (2)"),
        [("id", "int32"), ("big", "int64"), ("ubig", "decimal128(20, 0)"), ("small", "int16"),
         ("amount", "decimal128(20, 6)"), ("ratio", "double"), ("day", "date32[day]"), ("stamp", "timestamp[us]"),
         ("local_stamp", "timestamp[us]"), ("label", "string"), ("payload", "binary")],
        {"id": 1, "big": 9_223_372_036_854_775_807, "ubig": Decimal(18_446_744_073_709_551_615), "small": -32_768,
         "amount": Decimal("12345678901234.123456"), "ratio": 1e-300, "day": dt.date(1000, 1, 1),
         "stamp": AT.astimezone(UTC).replace(tzinfo=None), "local_stamp": dt.datetime(2024, 12, 31, 23, 59, 59),
         "label": WORDS, "payload": b"\x00\xff"},
        "12345678901234.123456"),
    # Spark's TIMESTAMP is the session's local time (spark.sql.session.timeZone, UTC here).
    "spark": Probe(
        ("CREATE TABLE probe (id INT, big BIGINT, small SMALLINT, amount DECIMAL(20, 6), ratio DOUBLE, "
         "flag BOOLEAN, day DATE, stamp TIMESTAMP, label STRING) USING parquet",
         "INSERT INTO probe VALUES (1, 9223372036854775807, -32768, 12345678901234.123456, 1e-300, true, "
         f"DATE'2024-02-29', TIMESTAMP'2024-03-10 17:30:15.123456', {LITERAL}), "
         "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"),
        [("id", "int32"), ("big", "int64"), ("small", "int16"), ("amount", "decimal128(20, 6)"),
         ("ratio", "double"), ("flag", "bool"), ("day", "date32[day]"), ("stamp", "timestamp[us]"),
         ("label", "string")],
        {"id": 1, "big": 9_223_372_036_854_775_807, "small": -32_768, "amount": Decimal("12345678901234.123456"),
         "ratio": 1e-300, "flag": True, "day": dt.date(2024, 2, 29),
         "stamp": AT.astimezone(UTC).replace(tzinfo=None), "label": WORDS},
        "12345678901234.123456"),
}


@contextlib.contextmanager
def _spark_probe(setup: tuple[str, ...]) -> Iterator[tuple[str, str | None]]:
    from pyhive import hive
    from sqlalchemy.engine import make_url

    server = next(spark_support.server_url())
    parsed = make_url(server)
    name = spark_support.fresh_database_name("spyne_types")
    conn = hive.connect(host=parsed.host, port=parsed.port, username=parsed.username or "spyne")
    cursor = conn.cursor()
    try:
        cursor.execute(f"CREATE DATABASE {name}")
        for sql in setup:
            cursor.execute(sql.replace("TABLE probe", f"TABLE {name}.probe").replace("INTO probe", f"INTO {name}.probe"))
        yield spark_support.database_url(server, name), None
    finally:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} CASCADE")
        conn.close()


@pytest.fixture(params=["duckdb", "mysql", pytest.param("spark", marks=spark_support.SPARK_MARKS)])
def probe(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str | None]]:
    """(engine, warehouse URL, read-only login URL) of a warehouse holding the engine's probe."""
    engine = request.param
    if engine == "spark":
        with _spark_probe(PROBES[engine].setup) as (url, query_url):
            yield engine, url, query_url
        return
    with live_warehouse(engine, tmp_path / "warehouse", PROBES[engine].setup) as live:
        yield engine, live.url, live.query_url


def test_each_engines_types_round_trip_in_every_format(probe: tuple[str, str, str | None], tmp_path: Path,
                                                      sqlite_template: Path) -> None:
    engine, url, query_url = probe
    expected = PROBES[engine]
    with live_gateway(tmp_path, sqlite_template, None, url, warehouse_query_url=query_url) as live:
        live.register("probe", "probe")
        preview = live.preview("SELECT * FROM probe ORDER BY id")
        response = live.download(preview, ARROW)
        assert response.status_code == 200, response.text
        table = pa.ipc.open_stream(response.content).read_all()
        assert [(f.name, str(f.type)) for f in table.schema] == expected.schema
        first, empty = table.to_pylist()
        assert first == expected.first
        assert empty == {"id": 2, **{k: None for k in first if k != "id"}}

        names = [name for name, _ in expected.schema]
        as_csv = list(csv.reader(io.StringIO(live.download(preview, "text/csv").text)))
        assert as_csv[0] == names
        assert as_csv[1][names.index("label")] == WORDS and as_csv[1][names.index("amount")] == expected.csv_amount
        assert as_csv[2][1:] == [""] * (len(names) - 1)
        lines = [json.loads(line) for line in live.download(preview, "application/x-ndjson").text.splitlines()]
        assert lines[0]["label"] == WORDS and lines[0]["big"] == 9_223_372_036_854_775_807
        assert lines[0]["day"] == first["day"].isoformat() and lines[0]["stamp"] == first["stamp"].isoformat()
        assert lines[1] == {name: (2 if name == "id" else None) for name in names}
