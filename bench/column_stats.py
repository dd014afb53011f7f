"""What measuring column statistics adds to registering a table: medians of introspection (the
floor: registration did it before) and of ``measure_distinct`` at the exact path's bound (100,000
rows of 20 columns, 2,000,000 cells: one COUNT(DISTINCT) query) and just past it (120,000 rows:
a 10,000-row sample drawn in one scan, and Duj1), on SQLite and, when reachable, PostgreSQL;
``--large`` adds a 2,000,000-row PostgreSQL table, sampled by pages (TABLESAMPLE SYSTEM). The
last column is each measurement's worst relative error against the true counts.

    .venv/bin/python bench/column_stats.py [--runs 5] [--no-postgres] [--large]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

# Run as a script, bench/ comes first on sys.path and bench/planner.py would shadow the
# planner package; the repository root must win.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import amedian_ms
from gateway.warehouse.column_stats import measure_distinct
from gateway.warehouse.contract import Warehouse
from gateway.warehouse.registry import open_warehouse

COLUMNS = 20
PG_BASE = os.environ.get("SPYNE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _rows(n: int) -> list[tuple[int, ...]]:
    # Column k holds i % (7 * 3**k) (capped at a key): from 7 distinct values to every row distinct.
    return [tuple([i] + [i % min(7 * 3 ** k, n) for k in range(1, COLUMNS)]) for i in range(n)]


def _create(table: str) -> str:
    return f"CREATE TABLE {table} (" + ", ".join(f"c{k} INTEGER" for k in range(COLUMNS)) + ")"


def sqlite_table(directory: Path, table: str, n: int) -> str:
    path = directory / f"{table}.db"
    with sqlite3.connect(path) as conn:
        conn.execute(_create(table))
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * COLUMNS)})", _rows(n))
    return f"sqlite:///{path}"


def postgres_table(table: str, n: int) -> tuple[str, Callable[[], None]]:
    import psycopg

    name = f"spyne_bench_stats_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_BASE, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_BASE.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url) as conn:
        conn.execute(_create(table))
        with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
            for row in _rows(n):
                copy.write_row(row)

    def drop() -> None:
        with psycopg.connect(PG_BASE, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


async def measure(engine: str, url: str, table: str, n: int, runs: int) -> None:
    warehouse: Warehouse = open_warehouse(url, statement_timeout_ms=120_000)
    try:
        names = [f"c{k}" for k in range(COLUMNS)]
        found = await measure_distinct(warehouse, table, names, n)
        floor = await amedian_ms(lambda: warehouse.introspect(table), runs, warmup=1)
        took = await amedian_ms(lambda: measure_distinct(warehouse, table, names, n), runs, warmup=1)
        exact = {c: min(7 * 3 ** k, n) if k else n for k, c in enumerate(names)}
        worst = max(abs(found.counts[c] - exact[c]) / exact[c] for c in names)
        print(f"{engine:<10} {n:>8,} rows x {COLUMNS}  {found.method:<8} introspect {floor:8.1f} ms   "
              f"statistics {took:8.1f} ms   worst count error {worst:6.1%}")
    finally:
        warehouse.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--large", action="store_true")
    args = parser.parse_args()
    sizes = (3_000, 100_000, 120_000)
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            await measure("sqlite", sqlite_table(Path(tmp), f"t{n}", n), f"t{n}", n, args.runs)
    if args.no_postgres:
        return
    for n in (*sizes, 2_000_000) if args.large else sizes:
        url, drop = postgres_table(f"t{n}", n)
        try:
            await measure("postgresql", url, f"t{n}", n, args.runs)
        finally:
            drop()


if __name__ == "__main__":
    asyncio.run(main())
