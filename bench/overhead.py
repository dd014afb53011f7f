"""The gateway's overhead against the floor, in the same run, on the same warehouse.

The floor is a plain Starlette endpoint that runs the SQL it is given through SQLAlchemy Core on
the demo warehouse (a worker thread per query, as the gateway does) and returns columns + rows as
JSON, served by uvicorn on 127.0.0.1. The gateway is `spyne serve --workers 1` over a copy of the
same warehouse, reached through previewQuery + executeQuery over GraphQL. Same queries: the
gateway gets the logical SQL, the floor the physical SQL the planner emits.

    .venv/bin/python bench/overhead.py            # about two minutes
    .venv/bin/python bench/overhead.py --runs 400 --profile

Targets, restated against the stack's own ceiling measured in the same run (issue 15): cached
previews ≥ 60 % of bare strawberry's rate per worker; executions ≥ 75 % of the GraphQL + query
ceiling; executeQuery alone of a previewed 100-row query ≤ 1.5x the direct endpoint; a ≥ 50 ms
query, preview + execute ≤ +5 %; two workers on a PostgreSQL catalog ≥ 1.8x one worker
(``--scaling``, when PostgreSQL is reachable). Earlier (issue 8): cold plan ≤ +2 ms over a cached
one. ``--profile`` runs cProfile inside a gateway (in process, over the ASGI transport) for the
cached preview + execute path and prints where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    SpyneServer,
    Tally,
    Workspace,
    bounded_load,
    free_port,
    graphql,
    prepare_workspace,
    python_of_venv,
    token,
)

FLOOR_APP = '''
import asyncio
import os

from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

engine = create_engine(os.environ["FLOOR_WAREHOUSE_URL"])


def run(sql):
    with engine.connect() as conn:
        result = conn.execute(text(sql))
        columns = list(result.keys())
        rows = [list(r) for r in result.fetchall()]
    return columns, rows


async def query(request):
    body = await request.json()
    columns, rows = await asyncio.to_thread(run, body["sql"])
    return JSONResponse({"columns": columns, "rows": rows, "rowCount": len(rows)})


async def healthz(request):
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/query", query, methods=["POST"]), Route("/healthz", healthz)])
'''

# The framework's own ceiling: strawberry over uvicorn with nothing behind it — a mutation taking an
# input object and returning two fields, parse and validation cached, heap frozen — so that the
# gateway's throughput can be read against what the stack itself allows on this machine.
BARE_STRAWBERRY_APP = '''
import gc

import strawberry
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache


@strawberry.input
class PreviewQueryInput:
    sql: str | None = None
    dialect: str | None = None


@strawberry.type
class QueryPreview:
    id: str
    sql: str


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def preview_query(self, input: PreviewQueryInput) -> QueryPreview:
        return QueryPreview(id="0", sql=input.sql or "")


schema = strawberry.Schema(Query, Mutation, extensions=[ParserCache(maxsize=64), ValidationCache(maxsize=64)])


async def healthz(request):
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/graphql", GraphQL(schema), methods=["GET", "POST"]), Route("/healthz", healthz)])
gc.collect()
gc.freeze()
'''

PREVIEW = "mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id sql guardrails { type requiresOverride } } }"
PREVIEW_BARE = "mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id sql } }"
EXECUTE = "mutation($id: ID!, $o: [GuardrailType!]) { executeQuery(previewId: $id, overrides: $o) { rowCount rows } }"

QUERIES = {
    "point lookup": "SELECT id, email, country FROM customers WHERE id = 42",
    "100 rows": "SELECT id, customer_id, status, total FROM orders ORDER BY id LIMIT 100",
    "heavy join (>=50 ms)": (
        "SELECT p.category, COUNT(*) AS n, SUM(i.quantity * i.unit_price) AS revenue FROM order_items i "
        "JOIN orders o ON i.order_id = o.id JOIN products p ON i.product_id = p.id "
        "WHERE o.status <> 'cancelled' GROUP BY p.category ORDER BY revenue DESC"),
}


class Floor:
    def __init__(self, ws: Workspace, source: str = FLOOR_APP, module: str = "floor_app") -> None:
        (ws.workdir / f"{module}.py").write_text(source)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "FLOOR_WAREHOUSE_URL": f"sqlite:///{ws.warehouse_path}"}
        self.process = subprocess.Popen(
            [python_of_venv(), "-m", "uvicorn", f"{module}:app", "--port", str(self.port), "--log-level", "warning",
             "--no-access-log"], cwd=ws.workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the floor did not come up")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def timed(call: Any) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def medians(floor: Floor, server: SpyneServer, runs: int) -> list[dict[str, Any]]:
    bearer = token("ANALYST")
    out = []
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as gw, \
            httpx.AsyncClient(base_url=floor.url, timeout=120) as direct:
        for label, sql in QUERIES.items():
            first = (await graphql(gw, bearer, PREVIEW, {"sql": sql}))["previewQuery"]
            physical = first["sql"]
            overrides = [g["type"] for g in first["guardrails"] if g["requiresOverride"]]
            n = runs if "heavy" not in label else max(20, runs // 10)

            async def floor_call(physical: str = physical) -> None:
                response = await direct.post("/query", json={"sql": physical})
                response.raise_for_status()

            async def gw_call(sql: str = sql, overrides: list[str] = overrides) -> None:
                preview = (await graphql(gw, bearer, PREVIEW, {"sql": sql}))["previewQuery"]
                await graphql(gw, bearer, EXECUTE, {"id": preview["id"], "o": overrides})

            async def preview_call(sql: str = sql) -> None:
                await graphql(gw, bearer, PREVIEW, {"sql": sql})

            async def execute_call(pid: str = first["id"], overrides: list[str] = overrides) -> None:
                await graphql(gw, bearer, EXECUTE, {"id": pid, "o": overrides})

            for _ in range(min(20, n)):  # warm-up, both sides
                await floor_call()
                await gw_call()
            # Interleaved, so that both sides see the same machine at the same moments.
            f, g, p, e = [], [], [], []
            for _ in range(n):
                f.append(await timed(floor_call))
                g.append(await timed(gw_call))
                p.append(await timed(preview_call))
                e.append(await timed(execute_call))
            out.append({"label": label, "direct": statistics.median(f), "gateway": statistics.median(g),
                        "preview": statistics.median(p), "execute": statistics.median(e)})
    return out


async def cold_plans(server: SpyneServer, runs: int) -> tuple[float, float]:
    """Median preview with a plan never seen before vs the same shape with a cached plan."""
    bearer = token("ANALYST")
    cached_sql = "SELECT id, email FROM customers WHERE id = 7 AND country = 'DE'"
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as gw:
        await graphql(gw, bearer, PREVIEW, {"sql": cached_sql})
        cold, warm = [], []
        salt = time.time_ns()
        for i in range(runs):
            sql = f"SELECT id, email FROM customers WHERE id = {salt % 100_000 + i} AND country = 'DE'"
            cold.append(await timed(lambda sql=sql: graphql(gw, bearer, PREVIEW, {"sql": sql})))
            warm.append(await timed(lambda: graphql(gw, bearer, PREVIEW, {"sql": cached_sql})))
    return statistics.median(cold), statistics.median(warm)


async def throughput(server: SpyneServer, seconds: float, concurrency: int) -> tuple[float, float, int]:
    bearer = token("ANALYST")
    sql = QUERIES["100 rows"]
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as gw:
        preview_id = (await graphql(gw, bearer, PREVIEW, {"sql": sql}))["previewQuery"]["id"]

    async def preview(client: httpx.AsyncClient, tally: Tally) -> None:
        started = time.perf_counter()
        try:
            await graphql(client, bearer, PREVIEW, {"sql": sql})
        except Exception as exc:
            tally.fail("preview", str(exc))
            return
        tally.ok("preview", time.perf_counter() - started)

    async def execute(client: httpx.AsyncClient, tally: Tally) -> None:
        started = time.perf_counter()
        try:
            await graphql(client, bearer, EXECUTE, {"id": preview_id})
        except Exception as exc:
            tally.fail("execute", str(exc))
            return
        tally.ok("execute", time.perf_counter() - started)

    p = await bounded_load(server.url, lambda n: preview, concurrency=concurrency, duration=seconds,
                           max_requests=10**7)
    e = await bounded_load(server.url, lambda n: execute, concurrency=concurrency, duration=seconds,
                           max_requests=10**7)
    return (len(p.latencies.get("preview", [])) / p.elapsed, len(e.latencies.get("execute", [])) / e.elapsed,
            p.error_count + e.error_count)


# wrk (Debian's package) drives the load from C, so it is the server that is measured, not the
# Python client: an httpx client in one process tops out near the rates being measured. Every
# response is read: a non-200 or a GraphQL `errors` counts as an error.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) failures = 0 end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then failures = failures + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("failures") end
  io.write(string.format("failures %d\\n", n))
end
"""


def wrk_rate(ws: Workspace, url: str, body: dict[str, Any], headers: dict[str, str], seconds: float,
             connections: int) -> tuple[float, int]:
    """Requests per second and failed responses of ``wrk`` POSTing ``body`` for ``seconds``."""
    script = ws.workdir / f"wrk-{free_port()}.lua"
    lines = ["wrk.method = 'POST'", f"wrk.body = {json.dumps(json.dumps(body))}",
             "wrk.headers['Content-Type'] = 'application/json'"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    script.write_text("\n".join(lines) + WRK_SCRIPT)
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    rate = next(float(line.split()[1]) for line in out.splitlines() if line.startswith("Requests/sec:"))
    failures = next(int(line.split()[1]) for line in out.splitlines() if line.startswith("failures"))
    errors = next((int(line.split()[-1]) for line in out.splitlines() if "Socket errors" in line), 0)
    return rate, failures + errors


def wrk_throughput(ws: Workspace, floor: Floor, server: SpyneServer, seconds: float,
                   connections: int) -> dict[str, tuple[float, int]]:
    bearer = token("ANALYST")
    sql = QUERIES["100 rows"]

    async def first() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as gw:
            return (await graphql(gw, bearer, PREVIEW, {"sql": sql}))["previewQuery"]  # type: ignore[no-any-return]

    preview = asyncio.run(first())
    auth = {"Authorization": f"Bearer {bearer}"}
    bare = Floor(ws, BARE_STRAWBERRY_APP, "bare_strawberry_app")
    try:
        bare_rate = wrk_rate(ws, bare.url + "/graphql", {"query": PREVIEW_BARE, "variables": {"sql": sql}}, {},
                             seconds, connections)
    finally:
        bare.stop()
    return {
        "strawberry alone": bare_rate,
        "floor": wrk_rate(ws, floor.url + "/query", {"sql": preview["sql"]}, {}, seconds, connections),
        "previews": wrk_rate(ws, server.url + "/graphql", {"query": PREVIEW, "variables": {"sql": sql}}, auth,
                             seconds, connections),
        "executions": wrk_rate(ws, server.url + "/graphql", {"query": EXECUTE, "variables": {"id": preview["id"]}},
                               auth, seconds, connections),
    }


def scaling(scale: float, seconds: float, concurrency: int) -> float | None:
    """Throughput of one worker and of two on a PostgreSQL catalog: a mix of previews and executions."""
    if not shutil.which("wrk"):
        print("  scaling: needs wrk (apt-get install wrk)")
        return None
    try:
        ws = prepare_workspace("postgres", scale)
    except Exception as exc:
        print(f"  scaling: no PostgreSQL catalog ({type(exc).__name__}); skipped")
        return None
    rates: dict[int, float] = {}
    bearer = token("ANALYST")
    sql = QUERIES["100 rows"]
    try:
        for workers in (1, 2):
            server = SpyneServer(ws, workers)
            try:
                async def first(url: str = server.url) -> dict[str, Any]:
                    async with httpx.AsyncClient(base_url=url, timeout=60) as gw:
                        return (await graphql(gw, bearer, PREVIEW, {"sql": sql}))["previewQuery"]  # type: ignore[no-any-return]

                preview = asyncio.run(first())
                auth = {"Authorization": f"Bearer {bearer}"}
                executions, bad = wrk_rate(ws, server.url + "/graphql",
                                           {"query": EXECUTE, "variables": {"id": preview["id"]}}, auth, seconds,
                                           concurrency * workers)
                previews, bad2 = wrk_rate(ws, server.url + "/graphql", {"query": PREVIEW, "variables": {"sql": sql}},
                                          auth, seconds, concurrency * workers)
                rates[workers] = executions
                print(f"  PostgreSQL catalog, {workers} worker(s): {executions:,.0f} executions/s, "
                      f"{previews:,.0f} cached previews/s (errors {bad + bad2})")
            finally:
                server.stop()
    finally:
        ws.cleanup()
    ratio = rates[2] / rates[1]
    print(f"  two workers / one worker (executions): {ratio:.2f}x (target >= 1.8x)")
    return ratio


def profile(ws: Workspace, runs: int) -> None:
    """cProfile of cached preview + execute inside one process (the ASGI app over httpx's transport)."""
    import cProfile
    import pstats

    from gateway.app import create_app
    from gateway.settings import load_settings

    async def go() -> None:
        settings = load_settings(ws.env)
        app = create_app(settings)
        bearer = token("ANALYST")
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            logging.disable(logging.INFO)  # the access log would swamp the profile's output
            sql = QUERIES["100 rows"]
            for _ in range(20):
                pid = (await graphql(client, bearer, PREVIEW, {"sql": sql}))["previewQuery"]["id"]
                await graphql(client, bearer, EXECUTE, {"id": pid})
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(runs):
                pid = (await graphql(client, bearer, PREVIEW, {"sql": sql}))["previewQuery"]["id"]
                await graphql(client, bearer, EXECUTE, {"id": pid})
            profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(r"gateway|planner|strawberry/schema|sqlalchemy/(ext/asyncio|engine/base)", 30)
        stats.sort_stats("tottime").print_stats(15)

    cwd = os.getcwd()
    os.chdir(ws.workdir)
    try:
        asyncio.run(go())
    finally:
        os.chdir(cwd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--catalog", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--throughput-seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--scaling", action="store_true",
                        help="also: one worker against two, on a PostgreSQL catalog (wrk, executions and previews)")
    args = parser.parse_args()
    ws = prepare_workspace(args.catalog, args.scale)
    floor = server = None
    missed = []
    try:
        floor = Floor(ws)
        server = SpyneServer(ws, 1)
        print(f"catalog {args.catalog}, SQLite warehouse (scale {args.scale}), one gateway worker, "
              f"{args.runs} runs; medians in ms")
        print(f"  {'query':<22} {'direct':>8} {'gateway':>8} {'ratio':>6}   {'preview':>8} {'execute':>8} "
              f"{'exec/direct':>11}")
        for r in asyncio.run(medians(floor, server, args.runs)):
            ratio = r["gateway"] / r["direct"]
            print(f"  {r['label']:<22} {r['direct'] * 1000:8.2f} {r['gateway'] * 1000:8.2f} {ratio:6.2f}   "
                  f"{r['preview'] * 1000:8.2f} {r['execute'] * 1000:8.2f} {r['execute'] / r['direct']:11.2f}")
            if "heavy" in r["label"]:
                extra = (r["gateway"] - r["direct"]) / r["direct"] * 100
                print(f"    heavy query: direct {r['direct'] * 1000:.1f} ms, gateway {extra:+.1f} % (target <= +5 %)")
                if extra > 5:
                    missed.append("heavy +5 %")
            elif r["label"] == "100 rows":
                alone = r["execute"] / r["direct"]
                print(f"    executeQuery alone of the previewed 100-row query: {alone:.2f}x the direct endpoint "
                      "(target <= 1.5x)")
                if alone > 1.5:
                    missed.append("executeQuery alone 1.5x")
        cold, warm = asyncio.run(cold_plans(server, args.runs))
        print(f"  preview, cold plan {cold * 1000:.2f} ms vs cached {warm * 1000:.2f} ms: "
              f"{(cold - warm) * 1000:+.2f} ms (target <= +2 ms)")
        if cold - warm > 0.002:
            missed.append("cold +2 ms")
        previews, executions, errors = asyncio.run(
            throughput(server, args.throughput_seconds, args.concurrency))
        print(f"  one worker, concurrency {args.concurrency}: {previews:,.0f} cached previews/s (target >= 2,000), "
              f"{executions:,.0f} executions of a 100-row query/s (target >= 1,000), errors {errors}")
        if shutil.which("wrk"):
            rates = wrk_throughput(ws, floor, server, args.throughput_seconds, args.concurrency)
            (floor_rate, floor_bad), (previews, p_bad), (executions, e_bad) = (
                rates["floor"], rates["previews"], rates["executions"])
            bare_rate, bare_bad = rates["strawberry alone"]
            print(f"  the same with wrk as the client: {previews:,.0f} cached previews/s, {executions:,.0f} "
                  f"executions/s, errors {p_bad + e_bad}; the floor serving the 100-row query: "
                  f"{floor_rate:,.0f} /s (errors {floor_bad})")
            # An execution is a GraphQL request and a query: even with no gateway logic at all it
            # costs the framework's time plus the floor's.
            ceiling = 1 / (1 / bare_rate + 1 / floor_rate)
            print(f"  the stack's own ceiling: strawberry alone (a trivial mutation) {bare_rate:,.0f} /s (errors "
                  f"{bare_bad}); previews reach {previews / bare_rate:.0%} of it (target >= 60 %); strawberry + "
                  f"the floor's query {ceiling:,.0f} /s, executions reach {executions / ceiling:.0%} of that "
                  "(target >= 75 %)")
            if previews / bare_rate < 0.6:
                missed.append("previews 60 % of strawberry")
            if executions / ceiling < 0.75:
                missed.append("executions 75 % of the ceiling")
        else:
            print("  (install wrk for a load that the Python client does not limit: apt-get install wrk; "
                  "the ceiling ratios need it)")
    finally:
        if server:
            server.stop()
        if floor:
            floor.stop()
    if args.profile:
        profile(ws, 200)
    ws.cleanup()
    if args.scaling:
        ratio = scaling(args.scale, args.throughput_seconds, args.concurrency)
        if ratio is not None and ratio < 1.8:
            missed.append("2 workers 1.8x")
    print("targets missed: " + (", ".join(missed) if missed else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
