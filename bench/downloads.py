"""Downloads against the same SQL fetched directly, side by side in one run, on SQLite, PostgreSQL,
DuckDB and MySQL/MariaDB.

A warehouse table of 1,000,000 rows x 5 columns (integer, integer, decimal, text, timestamp) is
registered in a fresh catalog and served by `spyne serve --workers 1` (a subprocess, 127.0.0.1).
For each format the gateway's `POST /previews/{id}/result` (read to the end by an httpx client;
Arrow decoded by pyarrow as it arrives) is timed next to the same SQL fetched directly with the
driver in this process and encoded the same way (Arrow: fetch + pyarrow conversion per batch;
CSV: csv.writer; NDJSON: json.dumps per row). The server's resident memory is sampled every
20 ms during the downloads.

    .venv/bin/python bench/downloads.py                 # SQLite, and PostgreSQL when reachable
    .venv/bin/python bench/downloads.py --rows 200000 --runs 3 --engines sqlite
    .venv/bin/python bench/downloads.py --engines duckdb,mysql   # MySQL: SPYNE_BENCH_MYSQL_URL

DuckDB's file is opened read-only by the server (``?read_only=true``) and by the direct side, so
both processes may read it; MySQL's direct side reads through PyMySQL's unbuffered cursor, as
the server does.

Targets (issue 15): Arrow <= 1.3x direct, CSV and NDJSON <= 1.5x direct, server RSS growth < 100 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEV_SECRET, PG_BASE, SPYNE, SpyneServer, Workspace, _pg_admin, token
from gateway.client import ChunkReader

ARROW = "application/vnd.apache.arrow.stream"
FORMATS = {"arrow": ARROW, "csv": "text/csv", "ndjson": "application/x-ndjson"}
TARGETS = {"arrow": 1.3, "csv": 1.5, "ndjson": 1.5}
SQL = "SELECT id, k, amount, label, ts FROM big"
MYSQL_BASE = os.environ.get("SPYNE_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
BATCH = 65_536


# --- warehouses ---------------------------------------------------------------------------------


def sqlite_warehouse(path: Path, rows: int) -> str:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, k INTEGER, amount REAL, label TEXT, ts TEXT)")
        conn.executemany("INSERT INTO big VALUES (?, ?, ?, ?, ?)",
                         ((i, i % 1000, round(i * 0.37, 2), f"label-{i % 977}-é",
                           f"2024-01-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00") for i in range(rows)))
    return f"sqlite:///{path}"


def pg_warehouse(rows: int) -> tuple[str, str]:
    name = f"spyne_bench_dl_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_BASE.rpartition("/")
    url = f"{base}/{name}"
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE big (id BIGINT PRIMARY KEY, k INTEGER, amount NUMERIC(12, 2), label TEXT, "
                     "ts TIMESTAMPTZ)")
        conn.execute("INSERT INTO big SELECT i, i % 1000, round(i * 0.37, 2), 'label-' || (i % 977) || '-é', "
                     "timestamptz '2024-01-01 00:00+00' + (i % 600) * interval '1 hour' "
                     f"FROM generate_series(0, {rows - 1}) AS i")
        conn.execute("ANALYZE big")
    return url, name


def duckdb_warehouse(path: Path, rows: int) -> str:
    import duckdb

    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE big (id BIGINT PRIMARY KEY, k INTEGER, amount DECIMAL(12, 2), label VARCHAR, "
                     "ts TIMESTAMPTZ)")
        conn.execute("INSERT INTO big SELECT i, i % 1000, round(i * 0.37, 2), 'label-' || (i % 977) || '-é', "
                     "timestamptz '2024-01-01 00:00+00' + to_hours(CAST(i % 600 AS BIGINT)) "
                     f"FROM range(0, {rows}) AS g(i)")
    return f"duckdb:///{path}?read_only=true"


def mysql_warehouse(rows: int) -> tuple[str, str]:
    import pymysql
    from sqlalchemy.engine import make_url

    base = make_url(MYSQL_BASE)
    name = f"spyne_bench_dl_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host=base.host or "127.0.0.1", port=base.port or 3306, user=base.username or "root",
                           password=base.password or "", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` DEFAULT CHARSET utf8mb4")
            cur.execute(f"CREATE TABLE `{name}`.big (id BIGINT PRIMARY KEY, k INTEGER, amount DECIMAL(12, 2), "
                        "label VARCHAR(40), ts TIMESTAMP NULL)")
            digits = " UNION ALL ".join(f"SELECT {d} AS d" for d in range(10))
            places = range(len(str(max(rows - 1, 1))))
            number = " + ".join(f"p{k}.d * {10 ** k}" for k in places)
            tables = ", ".join(f"({digits}) AS p{k}" for k in places)
            cur.execute(f"INSERT INTO `{name}`.big SELECT i, i % 1000, ROUND(i * 0.37, 2), "
                        "CONCAT('label-', i % 977, '-é'), TIMESTAMP('2024-01-01') + INTERVAL (i % 600) HOUR "
                        f"FROM (SELECT {number} AS i FROM {tables}) AS g WHERE i < {rows}")
    finally:
        conn.close()
    return base.set(database=name).render_as_string(hide_password=False), name


def mysql_drop(name: str) -> None:
    import pymysql
    from sqlalchemy.engine import make_url

    base = make_url(MYSQL_BASE)
    conn = pymysql.connect(host=base.host or "127.0.0.1", port=base.port or 3306, user=base.username or "root",
                           password=base.password or "", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


# --- direct fetches (the floor) ----------------------------------------------------------------


def direct_batches(url: str) -> Iterator[tuple[list[str], list[tuple[Any, ...]]]]:
    cursor_class: Any = None
    if url.startswith("sqlite"):
        import sqlite3

        conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"))
    elif url.startswith("duckdb"):
        import duckdb

        conn = duckdb.connect(url.removeprefix("duckdb:///").split("?")[0], read_only=True)
    elif url.startswith("mysql"):
        import pymysql
        import pymysql.cursors
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        conn = pymysql.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 3306,
                               user=parsed.username or "root", password=parsed.password or "",
                               database=parsed.database)
        cursor_class = pymysql.cursors.SSCursor
    else:
        import psycopg

        conn = psycopg.connect(url)
    try:
        cursor = conn.cursor(cursor_class) if cursor_class else conn.cursor()
        cursor.execute(SQL)
        names = [d[0] for d in cursor.description]
        while rows := cursor.fetchmany(BATCH):
            yield names, rows
    finally:
        conn.close()


def direct_arrow(url: str) -> int:
    import pyarrow as pa

    tables = []
    for names, rows in direct_batches(url):
        tables.append(pa.Table.from_arrays([pa.array(c) for c in zip(*rows, strict=True)], names=names))
    # Types inferred per batch differ (a NUMERIC's scale): widen them to one schema, as a reader would.
    return int(pa.concat_tables(tables, promote_options="permissive").num_rows)


def direct_csv(url: str) -> int:
    size = 0
    for i, (names, rows) in enumerate(direct_batches(url)):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if i == 0:
            writer.writerow(names)
        writer.writerows(rows)
        size += len(buffer.getvalue().encode())
    return size


def direct_ndjson(url: str) -> int:
    size = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
    for names, rows in direct_batches(url):
        size += len(("\n".join(dumps(dict(zip(names, r, strict=True))) for r in rows) + "\n").encode())
    return size


DIRECT: dict[str, Callable[[str], int]] = {"arrow": direct_arrow, "csv": direct_csv, "ndjson": direct_ndjson}


# --- through the gateway -------------------------------------------------------------------------


def download(client: httpx.Client, url: str, preview_id: str, fmt: str, overrides: list[str]) -> int:
    with client.stream("POST", f"{url}/previews/{preview_id}/result", headers={"Accept": FORMATS[fmt]},
                       json={"overrides": overrides}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"download: HTTP {response.status_code}: {response.read()[:300]!r}")
        if fmt == "arrow":
            import pyarrow as pa

            return int(pa.ipc.open_stream(io.BufferedReader(ChunkReader(response.iter_raw()), 1 << 16)).read_all().num_rows)
        return sum(len(chunk) for chunk in response.iter_raw())


class RssSampler:
    def __init__(self, server: SpyneServer) -> None:
        self.server, self.peak, self._stop = server, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_mb())
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


# --- one engine ----------------------------------------------------------------------------------


def register(env: dict[str, str]) -> None:
    async def run() -> None:
        from gateway.app import build_services
        from gateway.cli import cli_principal
        from gateway.settings import load_settings

        services = build_services(load_settings(env))
        try:
            await services.users.ensure_mode()
            await services.catalog.register_table(cli_principal(), "big", "big")
        finally:
            services.deps.warehouse.dispose()
            await services.deps.uow.dispose()

    asyncio.run(run())


def bench_engine(engine: str, warehouse_url: str, workdir: Path, rows: int, runs: int) -> list[str]:
    env = {**os.environ, "SPYNE_CATALOG_URL": f"sqlite:///{workdir}/catalog-{engine}.db",
           "SPYNE_WAREHOUSE_URL": warehouse_url, "SPYNE_DEV_SECRET": DEV_SECRET,
           "SPYNE_MAX_EXPORT_ROWS": str(rows * 2), "SPYNE_STATEMENT_TIMEOUT_MS": "600000"}
    subprocess.run([SPYNE, "migrate"], cwd=workdir, env=env, check=True, stdout=subprocess.DEVNULL)
    register(env)
    server = SpyneServer(Workspace(workdir, env, "sqlite"), workers=1)
    lines = []
    try:
        bearer = token()
        with httpx.Client(headers={"Authorization": f"Bearer {bearer}"}, timeout=600) as client:
            body = client.post(f"{server.url}/graphql", json={
                "query": "mutation($s: String!) { previewQuery(input: {sql: $s}) { id guardrails "
                         "{ type requiresOverride } } }", "variables": {"s": SQL}}).json()
            preview = body["data"]["previewQuery"]
            overrides = [g["type"] for g in preview["guardrails"] if g["requiresOverride"]]
            # Warm-up: imports (pyarrow), pools, page cache — then the resident memory it settles at.
            for fmt in FORMATS:
                download(client, server.url, preview["id"], fmt, overrides)
                DIRECT[fmt](warehouse_url)
            settled = server.rss_mb()
            for fmt in FORMATS:
                direct_times, gateway_times = [], []
                with RssSampler(server) as rss:
                    for _ in range(runs):
                        started = time.perf_counter()
                        DIRECT[fmt](warehouse_url)
                        direct_times.append(time.perf_counter() - started)
                        started = time.perf_counter()
                        download(client, server.url, preview["id"], fmt, overrides)
                        gateway_times.append(time.perf_counter() - started)
                direct_s, gateway_s = statistics.median(direct_times), statistics.median(gateway_times)
                ratio = gateway_s / direct_s
                verdict = "met" if ratio <= TARGETS[fmt] else "MISSED"
                growth = rss.peak - settled
                lines.append(f"{engine:<10} {fmt:<7} {direct_s:9.2f} s {gateway_s:9.2f} s {ratio:7.2f}x "
                             f"(target <= {TARGETS[fmt]}x: {verdict})   server RSS {settled:6.0f} MB, peak "
                             f"+{growth:5.1f} MB ({'met' if growth < 100 else 'MISSED'})")
                print(lines[-1], flush=True)
    finally:
        server.stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="spyne-bench-downloads-"))
    pg_name = mysql_name = None
    print(f"{args.rows:,} rows x 5 columns; median of {args.runs} runs each; direct = the driver in this "
          "process + the same encoding\n")
    print(f"{'engine':<10} {'format':<7} {'direct':>11} {'gateway':>11} {'ratio':>8}")
    try:
        for engine in args.engines.split(","):
            if engine == "sqlite":
                url = sqlite_warehouse(workdir / "warehouse.db", args.rows)
            elif engine == "duckdb":
                url = duckdb_warehouse(workdir / "warehouse.duckdb", args.rows)
            elif engine == "mysql":
                try:
                    url, mysql_name = mysql_warehouse(args.rows)
                except Exception as exc:  # no MySQL/MariaDB here: say so, go on
                    print(f"mysql      skipped: {type(exc).__name__}: {exc}")
                    continue
            else:
                try:
                    url, pg_name = pg_warehouse(args.rows)
                except Exception as exc:  # no PostgreSQL here: say so, go on
                    print(f"postgres   skipped: {type(exc).__name__}: {exc}")
                    continue
            bench_engine(engine, url, workdir, args.rows, args.runs)
    finally:
        if pg_name:
            _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        if mysql_name:
            mysql_drop(mysql_name)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
