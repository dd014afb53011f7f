"""Real warehouses for planner tests: run what plan() emits on SQLite, and on PostgreSQL when
configured (a database created and dropped here). A golden file proves what the SQL looks like;
these prove the warehouse runs it and answers as the analyst's dialect would."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from planner.catalog import CatalogSnapshot, Column, TableVersion
from tests.support.databases import create_pg_database, drop_pg_database, need_postgres

# Month ends and a leap day: where date arithmetic differs between dialects.
_DAYS = ("2024-01-31", "2024-02-29", "2024-03-31", "2023-12-31", "2024-05-15", "2024-01-01", "2024-02-01",
         "2024-08-31", "2024-10-10", "2024-12-31")
# Mondays and Sundays, ISO weeks across a year end (2023-01-01 is in the week of 2022-12-26), the
# first and last days of quarters.
_CALENDAR = ("2024-01-01", "2024-01-07", "2023-01-01", "2024-12-31", "2024-02-29", "2024-03-31", "2024-04-01",
             "2024-06-30", "2024-07-01", "2024-09-30", "2024-10-01", "2024-12-01", "2021-01-03", "2025-11-15",
             None)

# name -> (columns as "name TYPE" per warehouse, rows). Types are spelled as each warehouse
# introspects them, so the catalog gives the planner what the gateway would.
TABLES: dict[str, tuple[dict[str, str], Sequence[tuple[Any, ...]]]] = {
    "probe": ({"sqlite": "i INTEGER,x REAL,s TEXT,d DATE,ts TIMESTAMP",
               "postgres": "i BIGINT,x DOUBLE PRECISION,s TEXT,d DATE,ts TIMESTAMP"},
              [(1, 1.5, "2024-01-31", "2024-01-31", "2024-01-31 10:00:00"),
               (2, 2.5, "2024-02-29", "2024-02-29", "2024-02-29 11:00:00"),
               (3, 0.5, None, None, None)]),
    # Ten order lines: SUM(qty) = 11 over 10 lines, the silent wrong answer.
    "lines": ({"sqlite": "id INTEGER,qty INTEGER,price REAL,extra INTEGER,note TEXT,day DATE",
               "postgres": "id BIGINT,qty BIGINT,price DOUBLE PRECISION,extra BIGINT,note TEXT,day DATE"},
              [(n, 2 if n == 1 else 1, 1.25 * n, None if n % 3 == 0 else n % 2, None if n % 4 == 0 else f"n{n}",
                _DAYS[n - 1]) for n in range(1, 11)]),
    # Weekdays, year ends and quarter edges for DATE_TRUNC; a boolean as each warehouse stores one
    # (SQLite: 1/0 in a BOOLEAN column, as an analyst writing SQLite or MySQL compares it).
    "calendar": ({"sqlite": "id INTEGER,active BOOLEAN,d DATE,ts TIMESTAMP",
                  "postgres": "id BIGINT,active BOOLEAN,d DATE,ts TIMESTAMP"},
                 [(n, (None, True, False)[n % 3], day, None if day is None else f"{day} 13:45:00")
                  for n, day in enumerate(_CALENDAR, start=1)]),
}

Run = Callable[[str], list[tuple[Any, ...]]]


def catalog(warehouse: str) -> CatalogSnapshot:
    versions = []
    for name, (columns, rows) in TABLES.items():
        cols = tuple(Column(c.split()[0], " ".join(c.split()[1:])) for c in columns[warehouse].split(","))
        versions.append(TableVersion(name, 1, "ACTIVE", name, cols, len(rows)))
    return CatalogSnapshot.of(versions)


def _load(execute: Callable[[str, Sequence[Any]], None], warehouse: str, marker: str) -> None:
    for name, (columns, rows) in TABLES.items():
        execute(f"CREATE TABLE {name} ({columns[warehouse]})", ())
        for row in rows:
            execute(f"INSERT INTO {name} VALUES ({', '.join([marker] * len(row))})", row)


@contextmanager
def warehouse(kind: str) -> Iterator[Run]:
    if kind == "sqlite":
        conn = sqlite3.connect(":memory:")
        _load(lambda q, p: conn.execute(q, tuple(p)) and None, "sqlite", "?")
        try:
            yield lambda q: conn.execute(q).fetchall()
        finally:
            conn.close()
        return
    need_postgres()
    import psycopg

    url = create_pg_database("spyne_test_dialect")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            _load(lambda q, p: conn.execute(q, tuple(p)) and None, "postgres", "%s")

            def run(q: str) -> list[tuple[Any, ...]]:
                # Each statement in its own transaction: one failure must not poison the next.
                with conn.transaction():
                    return conn.execute(q).fetchall()
            yield run
    finally:
        drop_pg_database(url)
