"""Planner benchmark: plan() per TPC-H query next to bare sqlglot parse_one + generate, and a cache hit.

    .venv/bin/python bench/planner.py [--runs N]

Targets (issue 3): planning within 3x of parse+generate (overall median ratio), a PlanCache hit
under 5 µs; (issue 13) the same 3x with column resolution, cold (each query's first plan in
this process) and hot (after warm-up) reported apart. Figures are medians and p99 over N runs after a warm-up, printed side by side with
the floor measured in the same process. Nothing here is asserted; read the numbers.
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# The repository root goes first: this file is itself named planner.py, and bench/ is sys.path[0].
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlglot

from planner import PlanCache, PlanOptions, plan
from tests.planner.catalogs import tpch_catalog, tpch_queries


@dataclass(frozen=True)
class Row:
    name: str
    median_ms: float
    p99_ms: float
    floor_median_ms: float | None = None
    floor_p99_ms: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.median_ms / self.floor_median_ms if self.floor_median_ms else None


# perf_counter_ns (wall) by default; --clock cpu reads this thread's CPU time instead, which on a
# shared, overloaded machine leaves out the time spent waiting for a core.
CLOCK: list[Callable[[], int]] = [time.perf_counter_ns]


def measure(fn: Callable[[], object], runs: int, warmup: int = 5) -> tuple[float, float]:
    """Median and p99 in milliseconds."""
    (med, p99), _ = measure_pair(fn, None, runs, warmup)
    return med, p99


def measure_pair(fn: Callable[[], object], floor: Callable[[], object] | None, runs: int,
                 warmup: int = 5) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """Median and p99 (ms) of ``fn`` and of its floor, timed alternately so that both see the
    same machine: on a shared box, noise then moves both figures instead of the ratio."""
    for _ in range(warmup):
        fn()
        if floor is not None:
            floor()
    a: list[float] = []
    b: list[float] = []
    clock = CLOCK[0]
    for _ in range(runs):
        start = clock()
        fn()
        a.append((clock() - start) / 1e6)
        if floor is not None:
            start = clock()
            floor()
            b.append((clock() - start) / 1e6)
    return _stats(a), (_stats(b) if b else None)


def _stats(samples: list[float]) -> tuple[float, float]:
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def planner_rows(runs: int, warehouse: str = "sqlite") -> list[Row]:
    catalog = tpch_catalog()
    options = PlanOptions(warehouse_dialect=warehouse)
    rows = []
    for number, sql in tpch_queries():
        (med, p99), floor = measure_pair(
            lambda sql=sql: plan(sql, catalog, options),
            lambda sql=sql: sqlglot.parse_one(sql, read=warehouse).sql(dialect=warehouse), runs)
        assert floor is not None
        rows.append(Row(f"TPC-H {number:>2}", med, p99, floor[0], floor[1]))
    return rows


def cold_rows(warehouse: str = "sqlite") -> list[Row]:
    """Each TPC-H query planned once, as the first thing this process does with it, next to the
    floor's first parse+generate of it: what a preview of new text costs before any warm-up.
    Who goes first alternates per query, so the process's own first-call costs are shared."""
    catalog = tpch_catalog()
    options = PlanOptions(warehouse_dialect=warehouse)
    rows = []
    for i, (number, sql) in enumerate(tpch_queries()):
        def planned(sql: str = sql) -> float:
            start = CLOCK[0]()
            plan(sql, catalog, options)
            return (CLOCK[0]() - start) / 1e6

        def floor(sql: str = sql) -> float:
            start = CLOCK[0]()
            sqlglot.parse_one(sql, read=warehouse).sql(dialect=warehouse)
            return (CLOCK[0]() - start) / 1e6

        if i % 2:
            f, p = floor(), planned()
        else:
            p, f = planned(), floor()
        rows.append(Row(f"TPC-H {number:>2}", p, p, f, f))
    return rows


def cache_hit_us(runs: int = 200_000) -> float:
    """Median of a PlanCache hit in microseconds (key built from the SQL and options each time)."""
    catalog, options = tpch_catalog(), PlanOptions()
    sql = tpch_queries()[0][1]
    cache = PlanCache()
    cache.put(sql, options, catalog.epoch, plan(sql, catalog, options))
    batch = 1000
    samples = []
    for _ in range(runs // batch):
        start = time.perf_counter_ns()
        for _ in range(batch):
            cache.get(sql, options, catalog.epoch)
        samples.append((time.perf_counter_ns() - start) / batch / 1e3)
    return statistics.median(samples)


PREVIEW = "mutation($s: String!) { previewQuery(input: {sql: $s}) { id sql guardrails { type } } }"


def graphql_round_trip_rows(runs: int) -> list[Row]:
    """The preview round trip through GraphQL over HTTP (127.0.0.1, one uvicorn worker in its own
    process) next to a plain Starlette JSON endpoint in another: per TPC-H query a cold plan (a
    comment makes every request's text new, so the plan cache misses) and a cached plan."""
    import httpx

    from bench._servers import dev_token, start_floor, start_gateway, tpch_workspace

    workdir, env = tpch_workspace(tpch_catalog())
    gateway, base = start_gateway(workdir, env)
    floor, floor_url = start_floor(workdir)
    client = httpx.Client(headers={"Authorization": f"Bearer {dev_token()}"})
    counter = iter(range(10**9))

    def post(sql: str) -> None:
        body = client.post(f"{base}/graphql", json={"query": PREVIEW, "variables": {"s": sql}}).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])

    def floor_post() -> None:
        client.post(floor_url, json={"query": PREVIEW, "variables": {"s": "x"}}).raise_for_status()

    rows: list[Row] = []
    try:
        for number, sql in tpch_queries():
            (cold, cold99), fl = measure_pair(lambda sql=sql: post(f"{sql}\n-- run {next(counter)}"),
                                              floor_post, runs)
            (hot, hot99), _ = measure_pair(lambda sql=sql: post(sql), None, runs)
            assert fl is not None
            rows.append(Row(f"Q{number:>2} cold", cold, cold99, fl[0], fl[1]))
            rows.append(Row(f"Q{number:>2} hot", hot, hot99, fl[0], fl[1]))
    finally:
        client.close()
        gateway.stop()
        floor.stop()
    cold_rows, hot_rows = rows[0::2], rows[1::2]
    print(f"\npreview over HTTP: cold p50 {statistics.median(r.median_ms for r in cold_rows):.2f} ms, "
          f"p99 {statistics.median(r.p99_ms for r in cold_rows):.2f} ms (targets 2.5 / 5); "
          f"cached p50 {statistics.median(r.median_ms for r in hot_rows):.2f} ms (target 0.6); "
          f"plain Starlette floor p50 {statistics.median(r.floor_median_ms or 0 for r in rows):.2f} ms")
    return rows


def report(rows: list[Row], title: str) -> None:
    print(f"\n{title}")
    print(f"{'query':<10} {'plan p50':>10} {'plan p99':>10} {'floor p50':>10} {'floor p99':>10} {'ratio':>7}")
    for r in rows:
        floor = (f"{r.floor_median_ms:>10.3f} {r.floor_p99_ms:>10.3f} {r.ratio:>6.2f}x"
                 if r.floor_median_ms is not None and r.floor_p99_ms is not None and r.ratio is not None
                 else f"{'':>10} {'':>10} {'':>7}")
        print(f"{r.name:<10} {r.median_ms:>10.3f} {r.p99_ms:>10.3f} {floor}")
    ratios = [r.ratio for r in rows if r.ratio is not None]
    if ratios:
        print(f"overall median ratio: {statistics.median(ratios):.2f}x (target <= 3x); "
              f"median plan {statistics.median(r.median_ms for r in rows):.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--http-runs", type=int, default=40, help="runs per query over HTTP (0 skips it)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: this thread's CPU time (for a shared, loaded machine); in-process figures only")
    args = parser.parse_args()
    if args.clock == "cpu":
        CLOCK[0] = time.thread_time_ns
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # the floor warns on TPC-H 13 for SQLite
    gc.freeze()  # as the server does after start-up: keep full-heap GC passes out of the figures
    print(f"sqlglot {sqlglot.__version__}; {args.runs} runs per figure after warm-up; times in ms ({args.clock} clock)")
    report(cold_rows(), "cold: the first plan() of each query vs its first parse_one+generate (one sample each)")
    for warehouse in ("sqlite", "postgres"):
        report(planner_rows(args.runs, warehouse),
               f"hot: plan() vs parse_one+generate after warm-up, TPC-H, warehouse {warehouse}")
    print(f"\nPlanCache hit: {cache_hit_us():.2f} µs median (target < 5 µs)")
    rows = graphql_round_trip_rows(args.http_runs) if args.http_runs else []
    if rows:
        report(rows, "preview round trip over GraphQL")


if __name__ == "__main__":
    main()
