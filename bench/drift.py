"""Diff two 2,000-column schemas: median time over many runs (target: under 50 ms).

The new schema has 40 adds, 40 removes, 40 renames (half of them with value fingerprints),
60 widenings, 20 narrowings with statistics and 20 nullability changes, spread through the
table; types are spelled in several ways, as introspection returns them. Two figures:
warm (type spellings already normalised, the steady state in a running gateway) and cold
(the normalisation cache cleared before every run), next to a floor: building the two
name -> column dicts, which any diff must do. A last line times the worst case for rename
pairing: a thousand removed and a thousand added columns of one type.

    .venv/bin/python bench/drift.py [--runs 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script, bench/ comes first on sys.path and bench/planner.py would shadow the
# planner package; the repository root must win.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.drift import ColumnSpec, ColumnStats, diff_schemas, minhash
from planner.drift.normalize import normalize_type

TYPES = ("int4", "integer", "bigint", "numeric(12,2)", "varchar(40)", "text", "timestamptz",
         "date", "boolean", "double precision", "int2", "uuid", "jsonb", "char(3)")
WORDS = ("customer", "order", "amount", "created", "status", "region", "product", "price",
         "quantity", "discount", "channel", "warehouse", "supplier", "invoice", "payment")


def schemas(n: int = 2000, seed: int = 7) -> tuple[list[ColumnSpec], list[ColumnSpec]]:
    rng = random.Random(seed)
    old = [ColumnSpec(f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{i}", rng.choice(TYPES),
                      nullable=rng.random() < 0.8) for i in range(n)]
    new = list(old)
    picks = rng.sample(range(n), 220)
    removes, renames, widens = picks[:40], picks[40:80], picks[80:140]
    narrows, nulls = picks[140:160], picks[160:180]
    for i in widens:
        new[i] = ColumnSpec(old[i].name, _wider(old[i].type), old[i].nullable)
    for i in narrows:
        stats = ColumnStats(min_value=0, max_value=100, max_length=10, max_scale=0)
        new[i] = ColumnSpec(old[i].name, "smallint", old[i].nullable)
        old[i] = ColumnSpec(old[i].name, "bigint", old[i].nullable, stats=stats)
    for i in nulls:
        new[i] = ColumnSpec(old[i].name, old[i].type, not old[i].nullable)
    for k, i in enumerate(renames):
        prefix, word, index = old[i].name.rsplit("_", 2)
        values = minhash(str(v) for v in range(i, i + 200)) if k % 2 else None
        if values:
            old[i] = ColumnSpec(old[i].name, old[i].type, old[i].nullable,
                                stats=ColumnStats(fingerprint=values))
        new[i] = ColumnSpec(f"{prefix}_{word}_id_{index}", old[i].type, old[i].nullable,
                            stats=ColumnStats(fingerprint=values) if values else None)
    for i in sorted(removes, reverse=True):
        del new[i]
    for k in range(40):
        new.insert(rng.randrange(len(new)), ColumnSpec(f"added_{k}", rng.choice(TYPES)))
    return old, new


def churn(n: int = 2000, seed: int = 11) -> tuple[list[ColumnSpec], list[ColumnSpec]]:
    """The worst case for rename pairing: half the columns replaced, all of one type."""
    rng = random.Random(seed)
    old = [ColumnSpec(f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{i}", "text") for i in range(n)]
    new = [c if i % 2 else ColumnSpec(f"{rng.choice(WORDS)}_x_{i}", "text")
           for i, c in enumerate(old)]
    return old, new


def _wider(spelled: str) -> str:
    return {"int4": "bigint", "integer": "bigint", "int2": "int4", "varchar(40)": "text",
            "numeric(12,2)": "numeric(18,2)", "date": "timestamp", "char(3)": "varchar(10)"
            }.get(spelled, "text" if spelled in ("uuid",) else spelled)


def measure(fn: Callable[[], object], runs: int, before: Callable[[], object] | None = None
            ) -> list[float]:
    times: list[float] = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    old, new = schemas()
    diff = diff_schemas(old, new, dialect="postgres")
    counts: dict[str, int] = {}
    for c in diff.changes:
        counts[c.type.value] = counts.get(c.type.value, 0) + 1
    print(f"schemas: {len(old)} -> {len(new)} columns; changes found: {counts}")

    def run() -> object:
        return diff_schemas(old, new, dialect="postgres")

    def floor() -> object:
        return {c.name: c for c in old}, {c.name: c for c in new}

    for _ in range(5):
        run()
    floor_ms = measure(floor, args.runs)
    warm = measure(run, args.runs)
    cold = measure(run, max(args.runs // 4, 10), before=normalize_type.cache_clear)
    for label, times in (("floor (two dicts)", floor_ms), ("diff, warm", warm), ("diff, cold", cold)):
        ordered = sorted(times)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(f"{label:>18}: median {statistics.median(times):7.2f} ms   p99 {p99:7.2f} ms"
              f"   ({len(times)} runs)")
    print(f"warm median / floor median: {statistics.median(warm) / statistics.median(floor_ms):.0f}x;"
          f" target: warm median under 50 ms")

    c_old, c_new = churn()
    heavy = diff_schemas(c_old, c_new)
    kinds = sorted({c.type.value for c in heavy.changes})
    times = measure(lambda: diff_schemas(c_old, c_new), max(args.runs // 10, 5))
    print(f"worst case, 1,000 removed and 1,000 added text columns ({', '.join(kinds)}): "
          f"median {statistics.median(times):.1f} ms (rename candidates blocked by position, "
          f"name tokens and fingerprints)")


if __name__ == "__main__":
    main()
