"""Join discovery over synthetic catalogs of 100, 1,000 and 10,000 tables.

Prints the median discovery time per catalog size, the time per table, and the growth ratio
between sizes: a 10× larger catalog should take about 10× longer (close to linear), never
100× (every column compared with every column).

    .venv/bin/python bench/joins.py [--runs N]
"""

from __future__ import annotations

import argparse
import functools
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script, bench/ comes first on sys.path, and bench/planner.py would shadow the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from planner.catalog import Column  # noqa: E402
from planner.join_discovery import DeclaredKey, DiscoveryTable, ObservedJoin, discover  # noqa: E402

SIZES = (100, 1_000, 10_000)
COLUMNS_PER_TABLE = 12


def synthetic_catalog(n: int, seed: int = 7) -> tuple[list[DiscoveryTable], list[ObservedJoin]]:
    """Entities ``entity_<i>s`` with an ``id`` key, references ``entity_<j>_id`` to a few others,
    a few shared codes, one declared foreign key in three, and plain attribute columns."""
    rng = random.Random(seed)
    tables: list[DiscoveryTable] = []
    observed: list[ObservedJoin] = []
    for i in range(n):
        cols = [Column("id", "INTEGER", nullable=False, primary_key=True)]
        refs = rng.sample(range(n), k=min(3, n - 1))
        fks = []
        for r in refs:
            if r == i:
                continue
            cols.append(Column(f"entity_{r}_id", rng.choice(("INTEGER", "BIGINT"))))
            if rng.random() < 0.33:
                fks.append(DeclaredKey((f"entity_{r}_id",), f"entity_{r}s", ("id",)))
            if rng.random() < 0.2:
                observed.append(ObservedJoin(f"entity_{i}s", (f"entity_{r}_id",), f"entity_{r}s", ("id",),
                                             f"user{rng.randrange(20)}@example.com"))
        cols.append(Column(f"code_{rng.randrange(n // 4 + 1)}_code", "VARCHAR(12)"))
        cols.append(Column("tenant_id", "INTEGER"))  # everywhere: a filter, never a join
        while len(cols) < COLUMNS_PER_TABLE:
            cols.append(Column(f"attr_{len(cols)}", rng.choice(("TEXT", "NUMERIC(12, 2)", "DATE"))))
        tables.append(DiscoveryTable(f"entity_{i}s", tuple(cols), tuple(fks), row_count=rng.randrange(10**6)))
    return tables, observed


def floor(tables: list[DiscoveryTable]) -> int:
    """The floor: one pass filing every column by name, the least any discovery must do."""
    index: dict[str, list[tuple[str, str]]] = {}
    for table in tables:
        for column in table.columns:
            index.setdefault(column.name.lower(), []).append((table.name, column.type))
    return len(index)


def median_seconds(fn: Callable[[], object], runs: int, collect: bool) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        gc.collect()
        if not collect:
            gc.disable()  # as timeit does: the collector's full passes are not discovery's cost
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
        gc.enable()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--gc", action="store_true", help="leave the garbage collector on while timing")
    args = parser.parse_args()
    print(f"join discovery, median of {args.runs} runs, garbage collector {'on' if args.gc else 'off (timeit)'}")
    print(f"{'tables':>8} {'columns':>8} {'candidates':>10} {'median ms':>10} {'µs/table':>9} "
          f"{'growth':>15} {'floor ms':>9} {'floor growth':>13}")
    previous: tuple[int, float, float] | None = None
    for n in SIZES:
        tables, observed = synthetic_catalog(n)
        runs = args.runs if n < 10_000 else max(3, args.runs // 2)
        found = len(discover(tables, observed))
        seconds = median_seconds(functools.partial(discover, tables, observed), runs, args.gc)
        floor_seconds = median_seconds(functools.partial(floor, tables), runs, args.gc)
        growth = floor_growth = ""
        if previous is not None:
            growth = f"×{seconds / previous[1]:.1f} for ×{n // previous[0]}"
            floor_growth = f"×{floor_seconds / previous[2]:.1f}"
        print(f"{n:>8,} {n * COLUMNS_PER_TABLE:>8,} {found:>10,} {seconds * 1000:>10.1f} "
              f"{seconds / n * 1e6:>9.1f} {growth:>15} {floor_seconds * 1000:>9.1f} {floor_growth:>13}")
        previous = (n, seconds, floor_seconds)


if __name__ == "__main__":
    main()
