"""Ingestion throughput: idempotent upsert next to a plain bulk insert of the same rows (the floor).

    .venv/bin/python bench/ingest.py [--rows 200000] [--batch 10000] [--runs 3]

SQLite always; PostgreSQL when ``SPYNE_BENCH_POSTGRES_URL`` (or ``SPYNE_TEST_POSTGRES_URL``) points
at a server, MySQL/MariaDB when ``SPYNE_BENCH_MYSQL_URL`` (or ``SPYNE_TEST_MYSQL_URL``) does: a
throwaway database is created and dropped. Every figure is the median of
``--runs`` runs, in the same process, on the same database, one transaction per batch.

    floor              plain INSERT of the rows into a table without a unique index
                       (SQLite executemany; PostgreSQL executemany and COPY)
    upsert (apply)     IngestWriter.apply, upsert/latest_wins, into an empty keyed table
    upsert (re-apply)  the same batches again: every record is a duplicate, nothing changes
    ingest (pipeline)  validation of raw dicts + landing log + upsert, what an ingest call does
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway.ingestion_records import ContractColumn, ContractVersionRecord, Semantics
from gateway.services.ingestion_validate import RecordValidator, target_spec
from gateway.warehouse.contract import Warehouse
from gateway.warehouse.ingest_tables import IngestTables, TargetColumn, qualified
from gateway.warehouse.naming import shadow_physical_name
from gateway.warehouse.registry import open_warehouse
from gateway.warehouse.writer import Batch, IngestWriter

COLUMNS = (ContractColumn("id", "BIGINT", False), ContractColumn("kind", "TEXT", True, max_length=65536),
           ContractColumn("amount", "DOUBLE"), ContractColumn("happened_at", "TIMESTAMP", False),
           ContractColumn("loaded_at", "TIMESTAMP"))


def contract() -> ContractVersionRecord:
    from datetime import UTC, datetime

    return ContractVersionRecord(
        contract_id="bench", version=1, columns=COLUMNS,
        semantics=Semantics("upsert", ("id",), "happened_at", "loaded_at", "24h", 86400, "latest_wins"),
        sla=None, warnings=(), description=None, created_by="bench", created_at=datetime.now(UTC))


def records(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "kind": ("click", "view", "buy")[i % 3], "amount": i * 0.5,
             "happened_at": f"2025-03-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"} for i in range(n)]


def batches_of(validator: RecordValidator, raw: list[dict[str, Any]], size: int) -> list[Batch]:
    out = []
    for start in range(0, len(raw), size):
        batch = Batch(land=False)
        for r in raw[start:start + size]:
            validator.add(batch, None, "", r)
        out.append(batch)
    return out


def timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bench_backend(name: str, warehouse: Warehouse, n: int, size: int, runs: int) -> None:
    backend = warehouse.backend
    tables = IngestTables(warehouse)
    writer = IngestWriter(warehouse)
    tables.ensure_bookkeeping()
    cv = contract()
    from datetime import UTC, datetime

    validator = RecordValidator(cv, datetime.now(UTC))
    raw = records(n)
    batches = batches_of(validator, raw, size)
    rows = writer.engine_rows(target_spec(cv, "floor"), [r for b in batches for r in b.rows])
    cols = [TargetColumn(c.name, c.type, c.nullable) for c in COLUMNS]
    figures: dict[str, list[float]] = {}

    def fresh(keyed: bool) -> str:
        physical = shadow_physical_name(f"bench_{uuid.uuid4().hex[:8]}", 1, backend)
        tables.create_target(physical, cols, ("id",), keyed)
        return physical

    def floor_many(physical: str) -> None:
        d = tables.dialect
        with tables.raw() as (conn, cur):
            sql = tables.sql(f"INSERT INTO {qualified(physical)} VALUES (?, ?, ?, ?, ?)")
            for start in range(0, len(rows), size):
                d.start(cur)
                cur.executemany(sql, rows[start:start + size])
                d.commit(conn, cur)

    def floor_copy(physical: str) -> None:
        with tables.raw() as (conn, cur):
            for start in range(0, len(rows), size):
                with cur.copy(f"COPY {qualified(physical)} FROM STDIN") as copy:
                    for row in rows[start:start + size]:
                        copy.write_row(row)
                conn.commit()

    for _ in range(runs):
        physical = fresh(False)
        figures.setdefault("floor: plain INSERT executemany", []).append(timed(lambda p=physical: floor_many(p)))
        tables.drop_target(physical)
        if tables.dialect.bulk == "copy":
            physical = fresh(False)
            figures.setdefault("floor: plain COPY", []).append(timed(lambda p=physical: floor_copy(p)))
            tables.drop_target(physical)
        physical = fresh(True)
        spec = target_spec(cv, physical)
        figures.setdefault("upsert (apply, latest_wins)", []).append(
            timed(lambda s=spec: [writer.apply(s, b, run_id="bench") for b in batches] and None))
        figures.setdefault("upsert (re-apply, all duplicates)", []).append(
            timed(lambda s=spec: [writer.apply(s, b, run_id="bench") for b in batches] and None))
        tables.drop_target(physical)
        physical = fresh(True)
        spec = target_spec(cv, physical)

        def pipeline(s: Any = spec) -> None:
            for start in range(0, n, size):
                batch = Batch()
                for r in raw[start:start + size]:
                    validator.add(batch, None, "{}", r)  # raw text stands in for the received line
                writer.apply(s, batch, run_id="bench")

        figures.setdefault("ingest pipeline (validate + landing + upsert)", []).append(timed(pipeline))
        tables.drop_target(physical)

    floor = n / statistics.median(figures["floor: plain INSERT executemany"])
    print(f"\n{name}: {n:,} small rows, batches of {size:,}, median of {runs} runs")
    for label, times in figures.items():
        rate = n / statistics.median(times)
        print(f"  {label:<48} {rate:>12,.0f} rows/s   {rate / floor:5.2f}× floor")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = open_warehouse(f"sqlite:///{tmp}/bench.db")
        bench_backend("SQLite", warehouse, args.rows, args.batch, args.runs)
        warehouse.dispose()
    bench_postgres(args)
    bench_mysql(args)


def bench_mysql(args: argparse.Namespace) -> None:
    base = os.environ.get("SPYNE_BENCH_MYSQL_URL") or os.environ.get("SPYNE_TEST_MYSQL_URL")
    if not base:
        print("\nMySQL/MariaDB: skipped (set SPYNE_BENCH_MYSQL_URL)")
        return
    name = f"spyne_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(base).set(drivername="mysql+pymysql", database=None), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}`"))
    try:
        warehouse = open_warehouse(make_url(base).set(database=name).render_as_string(hide_password=False))
        bench_backend("MySQL/MariaDB", warehouse, args.rows, args.batch, args.runs)
        warehouse.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def bench_postgres(args: argparse.Namespace) -> None:
    base = os.environ.get("SPYNE_BENCH_POSTGRES_URL") or os.environ.get("SPYNE_TEST_POSTGRES_URL")
    if not base:
        print("\nPostgreSQL: skipped (set SPYNE_BENCH_POSTGRES_URL)")
        return
    name = f"spyne_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(base).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        warehouse = open_warehouse(make_url(base).set(database=name).render_as_string(hide_password=False))
        bench_backend("PostgreSQL", warehouse, args.rows, args.batch, args.runs)
        warehouse.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
