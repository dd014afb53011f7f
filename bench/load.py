"""Bounded load and soak against `spyne serve` on 127.0.0.1.

For each catalog (SQLite file, throwaway PostgreSQL database) and each worker count (1, 2) it
prepares a demo workspace with the real CLI (`spyne migrate`, `spyne demo load --scale 0.2`),
starts `spyne serve --workers N`, and runs a mix of catalog reads, previews and executions at
concurrency 1 … 64, each step bounded by a duration AND a request cap. It prints throughput,
p50/p95/p99 and errors per step; the p99 of a catalog read alone and while slow warehouse
queries run; and the resident memory (RSS of the server and its workers, from /proc) before and
after a soak.

    .venv/bin/python bench/load.py --quick          # a few minutes: short steps, 20 s soaks
    .venv/bin/python bench/load.py                  # the full run: 10-minute soaks (issue 8)
    .venv/bin/python bench/load.py --catalogs sqlite --workers 1 --soak-seconds 600

Targets (issue 8): zero errors; RSS grows at most 10 % over the soak; the catalog-read p99 while
slow queries run is within 2x of the p99 without them. The script stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    Op,
    SpyneServer,
    Tally,
    Workspace,
    bounded_load,
    graphql,
    ms,
    percentile,
    prepare_workspace,
    token,
)

READ = "{ tables(first: 20) { edges { node { name state activeVersion } } } }"
PREVIEW = "mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id requiresConfirmation guardrails { type requiresOverride } } }"
EXECUTE = "mutation($id: ID!, $o: [GuardrailType!]) { executeQuery(previewId: $id, overrides: $o) { rowCount } }"
QUERIES = (
    "SELECT id, email, country FROM customers WHERE id = 42",
    "SELECT status, COUNT(*) AS n, SUM(total) AS revenue FROM orders GROUP BY status",
    "SELECT id, customer_id, status, total FROM orders WHERE status = 'shipped' LIMIT 100",
    "SELECT p.category, SUM(i.quantity) AS units FROM order_items i JOIN products p ON i.product_id = p.id "
    "GROUP BY p.category",
)
# A query the SQLite warehouse needs about a second for (scale 0.2): a self-join counting pairs.
SLOW = ("SELECT COUNT(*) AS pairs FROM order_items a JOIN order_items b ON a.product_id = b.product_id "
        "WHERE a.id <= 4000 AND a.quantity > b.quantity")
CONCURRENCY = (1, 8, 32, 64)


class Mix:
    """Half catalog reads, 30 % previews, 20 % preview + execute (weights as a repeating pattern)."""

    PATTERN = ("read", "read", "preview", "read", "execute", "read", "preview", "read", "execute", "preview")

    def __init__(self) -> None:
        self.bearer = token("ANALYST")

    def pick(self, n: int) -> Op:
        kind = self.PATTERN[n % len(self.PATTERN)]
        sql = QUERIES[n % len(QUERIES)]
        return {"read": self.read, "preview": lambda c, t: self.preview(c, t, sql),
                "execute": lambda c, t: self.execute(c, t, sql)}[kind]

    async def read(self, client: httpx.AsyncClient, tally: Tally) -> None:
        await _timed(tally, "read", lambda: graphql(client, self.bearer, READ))

    async def preview(self, client: httpx.AsyncClient, tally: Tally, sql: str) -> None:
        await _timed(tally, "preview", lambda: graphql(client, self.bearer, PREVIEW, {"sql": sql}))

    async def execute(self, client: httpx.AsyncClient, tally: Tally, sql: str) -> None:
        async def both() -> Any:
            preview = (await graphql(client, self.bearer, PREVIEW, {"sql": sql}))["previewQuery"]
            overrides = [g["type"] for g in preview["guardrails"] if g["requiresOverride"]]
            return await graphql(client, self.bearer, EXECUTE, {"id": preview["id"], "o": overrides})

        await _timed(tally, "execute", both)


async def _timed(tally: Tally, kind: str, call: Callable[[], Any]) -> None:
    started = time.perf_counter()
    try:
        await call()
    except Exception as exc:  # a benchmark counts failures, it does not stop on them
        tally.fail(kind, f"{type(exc).__name__}: {exc}")
        return
    tally.ok(kind, time.perf_counter() - started)


def report(label: str, tally: Tally) -> None:
    total_ok = sum(len(v) for v in tally.latencies.values())
    print(f"  {label:<14} {total_ok / tally.elapsed:8.1f} ops/s  {tally.requests:6d} ops  errors {tally.error_count}")
    for kind, values in sorted(tally.latencies.items()):
        print(f"      {kind:<8} n={len(values):6d}  p50 {ms(percentile(values, 50))} ms  "
              f"p95 {ms(percentile(values, 95))} ms  p99 {ms(percentile(values, 99))} ms")
    for sample in tally.error_samples:
        print(f"      ! {sample}")


async def ramp(url: str, step_seconds: float, cap: int) -> int:
    errors = 0
    for concurrency in CONCURRENCY:
        tally = await bounded_load(url, Mix().pick, concurrency=concurrency, duration=step_seconds, max_requests=cap)
        report(f"c={concurrency}", tally)
        errors += tally.error_count
    return errors


async def slow_query_isolation(url: str, seconds: float, slow_clients: int) -> tuple[float, float, int]:
    """p99 of a catalog read alone, then while ``slow_clients`` run the slow query back to back."""
    mix = Mix()
    alone = await bounded_load(url, lambda n: mix.read, concurrency=4, duration=seconds, max_requests=1_000_000)
    bearer = token("ANALYST")
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        preview = (await graphql(client, bearer, PREVIEW, {"sql": SLOW}))["previewQuery"]
    overrides = [g["type"] for g in preview["guardrails"] if g["requiresOverride"]]
    stop = asyncio.Event()
    slow_tally = Tally()

    async def slow_loop() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=300) as client:
            while not stop.is_set():
                await _timed(slow_tally, "slow", lambda: graphql(client, bearer, EXECUTE,
                                                                 {"id": preview["id"], "o": overrides}))

    slow_tasks = [asyncio.create_task(slow_loop()) for _ in range(slow_clients)]
    await asyncio.sleep(0.5)  # let the slow queries get going
    busy = await bounded_load(url, lambda n: mix.read, concurrency=4, duration=seconds, max_requests=1_000_000)
    stop.set()
    await asyncio.gather(*slow_tasks)
    slow = slow_tally.latencies.get("slow", [])
    print(f"      slow query: n={len(slow)} p50 {ms(percentile(slow, 50))} ms (errors {slow_tally.error_count})")
    return (percentile(alone.latencies.get("read", []), 99), percentile(busy.latencies.get("read", []), 99),
            alone.error_count + busy.error_count + slow_tally.error_count)


async def soak(server: SpyneServer, seconds: float, concurrency: int) -> tuple[float, float, int]:
    # Warm up first, so that what is measured is growth, not the first-use allocations.
    await bounded_load(server.url, Mix().pick, concurrency=concurrency, duration=min(10.0, seconds / 4),
                       max_requests=10**9)
    before = server.rss_mb()
    tally = await bounded_load(server.url, Mix().pick, concurrency=concurrency, duration=seconds, max_requests=10**9)
    after = server.rss_mb()
    report(f"soak {seconds:.0f}s", tally)
    return before, after, tally.error_count


def run_config(ws: Workspace, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    print(f"\n== catalog {ws.catalog}, {workers} worker(s) ==")
    server = SpyneServer(ws, workers)
    try:
        errors = asyncio.run(ramp(server.url, args.step_seconds, args.max_requests))
        alone, busy, iso_errors = asyncio.run(slow_query_isolation(server.url, args.step_seconds, args.slow_clients))
        print(f"  catalog-read p99 alone {alone * 1000:.2f} ms, with {args.slow_clients} slow queries "
              f"{busy * 1000:.2f} ms: {busy / alone:.2f}x (target <= 2x)")
        before, after, soak_errors = asyncio.run(soak(server, args.soak_seconds, args.soak_concurrency))
        growth = (after - before) / before * 100
        print(f"  RSS of {len(server.pids())} process(es): {before:.1f} MB before the soak, {after:.1f} MB after "
              f"({growth:+.1f} %, target <= +10 %)")
    finally:
        server.stop()
    return {"errors": errors + iso_errors + soak_errors, "isolation": busy / alone, "growth": growth}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short steps and 20 s soaks: a few minutes in all")
    parser.add_argument("--catalogs", default="sqlite,postgres")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--step-seconds", type=float, default=None, help="duration of each load step")
    parser.add_argument("--max-requests", type=int, default=20_000, help="request cap of each load step")
    parser.add_argument("--soak-seconds", type=float, default=None, help="600 unless --quick")
    parser.add_argument("--soak-concurrency", type=int, default=16)
    parser.add_argument("--slow-clients", type=int, default=1)
    args = parser.parse_args()
    args.step_seconds = args.step_seconds or (4.0 if args.quick else 15.0)
    args.soak_seconds = args.soak_seconds or (20.0 if args.quick else 600.0)
    results = {}
    template: Path | None = None
    for catalog in args.catalogs.split(","):
        ws = prepare_workspace(catalog, args.scale, template=template)
        try:
            if template is None:  # generate the warehouse once; later workspaces copy it
                template = ws.workdir.parent / f"{ws.workdir.name}-warehouse.db"
                template.write_bytes(ws.warehouse_path.read_bytes())
            for workers in (int(w) for w in args.workers.split(",")):
                results[(catalog, workers)] = run_config(ws, workers, args)
        finally:
            ws.cleanup()
    if template is not None:
        template.unlink(missing_ok=True)
    print("\n== summary ==")
    failed = False
    for (catalog, workers), r in results.items():
        ok = r["errors"] == 0 and r["isolation"] <= 2 and r["growth"] <= 10
        failed |= not ok
        print(f"  {catalog:<8} workers={workers}  errors={r['errors']}  read p99 under slow queries "
              f"{r['isolation']:.2f}x  RSS growth {r['growth']:+.1f} %  {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
