"""Every live warehouse adapter side by side: the gateway's cost over the engine's own driver, and
how a runaway query is stopped while the server keeps answering.

Per engine (SQLite and DuckDB always; PostgreSQL with SPYNE_TEST_POSTGRES_URL, MySQL/MariaDB with
SPYNE_TEST_MYSQL_URL), on a table of 200,000 rows:

- a 100-row query: executeQuery of a previewed query (GraphQL, in process over the ASGI transport)
  against the same physical SQL run directly through the same driver on a kept connection
  (target: ≤ 1.5×);
- a query of 50 ms or more (a self-join sized until the driver takes ≥ 50 ms): target ≤ +3 %;
- a runaway (a three-way cross join) under a 2 s statement timeout: how long past the deadline
  TIMEOUT arrives (target ≤ 1 s), and the p99 of catalog reads meanwhile against idle
  (target ≤ 2×).

    .venv/bin/python bench/warehouses.py [--runs 200] [--rows 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench._common import amedian_ms
from gateway.app import build_services, create_app
from gateway.auth import mint_dev_token
from gateway.settings import Settings
from gateway.store.engine import migrate
from tests.warehouse.live_adapters import ENGINES, LiveWarehouse, live_warehouse

SECRET = b"bench-secret-0123456789abcdef-0123456789abcdef"
TIMEOUT_MS = 2000
SETUP = ("CREATE TABLE events (id INTEGER NOT NULL, customer INTEGER NOT NULL, amount DOUBLE PRECISION, "
         "note VARCHAR(64), PRIMARY KEY (id))",)
SETUP_BY_ENGINE = {"duckdb": (SETUP[0].replace("DOUBLE PRECISION", "DOUBLE"),),
                   "mysql": (SETUP[0].replace("DOUBLE PRECISION", "DOUBLE"),)}
PREVIEW = """mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id sql
  guardrails { type requiresOverride } } }"""
EXECUTE = """mutation($id: ID!, $o: [GuardrailType!]) { executeQuery(previewId: $id, overrides: $o) {
  rowCount truncated } }"""
REGISTER = """mutation { registerTable(input: {name: "events", physicalName: "events"}) { name } }"""
CATALOG_READ = "{ tables(first: 10) { totalCount } }"


def direct_runner(live: LiveWarehouse) -> tuple[Callable[[str], Any], Callable[[], None]]:
    """The engine's own driver on one kept connection: the floor."""
    path = live.url.split(":///", 1)[-1].split("?")[0]
    if live.engine == "sqlite":
        import sqlite3

        conn: Any = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        return (lambda sql: conn.execute(sql).fetchall()), conn.close
    if live.engine == "duckdb":
        import duckdb

        from gateway.warehouse.adapters.duckdb import FENCE_CONFIG

        conn = duckdb.connect(path, config=dict(FENCE_CONFIG))
        return (lambda sql: conn.execute(sql).fetchall()), conn.close
    if live.engine == "postgresql":
        import psycopg

        from tests.support.pg_warehouse import pg_dsn

        conn = psycopg.connect(pg_dsn(live.url), autocommit=True)
        return (lambda sql: conn.execute(sql).fetchall()), conn.close
    import pymysql
    from sqlalchemy.engine import make_url

    url = make_url(live.url)
    conn = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username, password=url.password or "",
                           database=url.database, autocommit=True)

    def run(sql: str) -> Any:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    return run, conn.close


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    for _ in range(max(3, runs // 10)):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.99) - 1)]


async def bench_engine(live: LiveWarehouse, rows: int, runs: int, workdir: Path) -> dict[str, float]:
    live.load("events", 4, [[str(i), str(i % 997), f"{(i % 1000) / 10:.2f}", f"note {i % 50}"]
                            for i in range(1, rows + 1)])
    catalog = f"sqlite:///{workdir / 'catalog.db'}"
    migrate(catalog)
    settings = Settings(catalog_url=catalog, warehouse_url=live.url, warehouse_query_url=live.query_url,
                        dev_secret=SECRET, statement_timeout_ms=TIMEOUT_MS, role_cache_seconds=60.0)
    services = build_services(settings)
    app = create_app(settings, services)
    await services.users.ensure_mode()
    admin = {"Authorization": "Bearer " + mint_dev_token(SECRET, "admin@bench", "ADMIN", 3600)}
    viewer = {"Authorization": "Bearer " + mint_dev_token(SECRET, "viewer@bench", "VIEWER", 3600)}
    direct, close = direct_runner(live)
    out: dict[str, float] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        async def gql(query: str, variables: dict[str, Any] | None = None,
                      headers: dict[str, str] = admin) -> dict[str, Any]:
            body = (await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                      headers=headers)).json()
            return body

        assert not (await gql(REGISTER)).get("errors")

        async def previewed(sql: str) -> tuple[str, str, list[str]]:
            body = await gql(PREVIEW, {"sql": sql})
            if body.get("errors"):
                raise RuntimeError(f"previewQuery failed: {body['errors'][0]}")
            found = body["data"]["previewQuery"]
            overrides = [g["type"] for g in found["guardrails"] if g["requiresOverride"]]
            return found["id"], found["sql"], overrides

        async def execute(preview_id: str, overrides: list[str], expect_ok: bool = True) -> dict[str, Any]:
            # The preview's owner executes it (a preview is private to whoever made it).
            body = await gql(EXECUTE, {"id": preview_id, "o": overrides or None})
            if expect_ok and body.get("errors"):
                raise RuntimeError(f"executeQuery failed: {body['errors'][0]}")
            return body

        # 1. A 100-row query.
        pid, physical, overrides = await previewed(
            "SELECT id, customer, amount, note FROM events WHERE id <= 100 ORDER BY id")
        assert len(direct(physical)) == 100
        out["direct_100"] = median_ms(lambda: direct(physical), runs)
        out["gateway_100"] = await amedian_ms(lambda: execute(pid, overrides), runs)

        # 2. A query of 50 ms or more: a self-join grown until the driver takes that long.
        k = 500
        while True:
            sql = (f"SELECT COUNT(*) AS n, SUM(a.amount) AS s FROM events a JOIN events b "
                   f"ON a.customer = b.customer WHERE a.id <= {k} AND b.id <= {k * 4}")
            pid, physical, overrides = await previewed(sql)
            took = median_ms(lambda p=physical: direct(p), 3)
            if took >= 50 or k >= rows:
                break
            k = min(rows, k * 2)
        slow_runs = max(10, min(runs // 5, 40))
        out["direct_slow"] = median_ms(lambda: direct(physical), slow_runs)
        out["gateway_slow"] = await amedian_ms(lambda: execute(pid, overrides), slow_runs)

        # 3. A runaway under the 2 s timeout, with catalog reads meanwhile.
        async def catalog_read() -> float:
            started = time.perf_counter()
            assert not (await gql(CATALOG_READ, headers=viewer)).get("errors")
            return (time.perf_counter() - started) * 1000

        idle = [await catalog_read() for _ in range(200)]
        pid, _, overrides = await previewed("SELECT COUNT(*) AS n FROM events a CROSS JOIN events b CROSS JOIN events c")
        started = time.perf_counter()
        runaway = asyncio.ensure_future(execute(pid, overrides, expect_ok=False))
        busy: list[float] = []
        while not runaway.done():
            busy.append(await catalog_read())
        answer = runaway.result()
        stopped = time.perf_counter() - started
        code = (answer.get("errors") or [{}])[0].get("extensions", {}).get("code")
        out["runaway_past_deadline_s"] = stopped - TIMEOUT_MS / 1000
        out["runaway_timed_out"] = float(code == "TIMEOUT")
        out["catalog_p99_idle"] = p99(idle)
        out["catalog_p99_busy"] = p99(busy) if busy else float("nan")
    close()
    services.deps.warehouse.dispose()
    await services.deps.uow.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    results: dict[str, dict[str, float] | str] = {}
    for engine in ENGINES:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                with live_warehouse(engine, Path(tmp) / "wh", SETUP_BY_ENGINE.get(engine, SETUP)) as live:
                    print(f"{engine}: measuring …", flush=True)
                    results[engine] = asyncio.run(bench_engine(live, args.rows, args.runs, Path(tmp)))
            except BaseException as exc:  # pytest.skip outside pytest: the server is not configured
                if isinstance(exc, KeyboardInterrupt):
                    raise
                results[engine] = f"skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"
    print()
    print(f"{'engine':<11} {'100 rows: direct':>17} {'gateway':>9} {'ratio':>6}   "
          f"{'≥50 ms: direct':>15} {'gateway':>9} {'+%':>6}   {'runaway past deadline':>22} "
          f"{'catalog p99 idle':>17} {'busy':>7} {'ratio':>6}")
    for engine, r in results.items():
        if isinstance(r, str):
            print(f"{engine:<11} {r}")
            continue
        print(f"{engine:<11} {r['direct_100']:>15.2f}ms {r['gateway_100']:>7.2f}ms "
              f"{r['gateway_100'] / r['direct_100']:>5.2f}x   {r['direct_slow']:>13.1f}ms {r['gateway_slow']:>7.1f}ms "
              f"{(r['gateway_slow'] / r['direct_slow'] - 1) * 100:>+5.1f}%   "
              f"{r['runaway_past_deadline_s']:>20.2f}s{'' if r['runaway_timed_out'] else '!'} "
              f"{r['catalog_p99_idle']:>15.2f}ms {r['catalog_p99_busy']:>5.2f}ms "
              f"{r['catalog_p99_busy'] / r['catalog_p99_idle']:>5.2f}x")
    print("\ntargets: 100-row ratio ≤ 1.5x; ≥50 ms ≤ +3 %; runaway ≤ 1 s past its deadline; "
          "catalog p99 busy ≤ 2x idle")


if __name__ == "__main__":
    main()
