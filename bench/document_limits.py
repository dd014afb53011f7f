"""What a fragment-doubling document costs: the old limit rules against the linear measure.

``Z{n}`` spreads ``Z{n-1}`` twice, …: 2^n selections from a text of ~40·n bytes. Printed, as
medians over several runs in one process:

1. strawberry's depth and alias limit rules (what the gateway ran before, during validation and
   before authentication) on Z8…Z14 — they double with every level;
2. ``gateway.graphql.document_limits.check_document`` on the same documents and on Z18/Z40;
3. whole requests through the ASGI app (httpx transport, SQLite catalog): ``{ systemMode }`` as the
   floor, then Z18 anonymous (refused at authentication) and authenticated (refused by the
   measure), with the ratio to the floor.

    .venv/bin/python bench/document_limits.py          # about half a minute
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from graphql import parse, validate
from strawberry.extensions.max_aliases import create_validator as alias_limit_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit_rule

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.graphql.document_limits import DocumentLimits, check_document
from gateway.graphql.schema import build_schema
from gateway.store.engine import migrate
from tests.support.harness import start_gateway, stop_gateway


def doubling(levels: int) -> str:
    fragments = " ".join(f"fragment Z{i} on Query {{ ...Z{i - 1} ...Z{i - 1} }}" for i in range(1, levels + 1))
    return f"query {{ ...Z{levels} }} fragment Z0 on Query {{ systemMode }} {fragments}"


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def rules_and_measure() -> None:
    schema = build_schema()._schema
    old_rules = [depth_limit_rule(12, None, None), alias_limit_rule(30)]
    limits = DocumentLimits()
    print(f"{'document':<10}{'bytes':>7}{'old rules ms':>15}{'measure ms':>13}{'ratio':>9}")
    for levels in (8, 10, 12, 14, 18, 40):
        document = parse(doubling(levels))
        measure = median_ms(lambda d=document: check_document(d, limits), 21)
        if levels <= 14:
            old = median_ms(lambda d=document: validate(schema, d, old_rules), 5 if levels >= 12 else 11)
            print(f"Z{levels:<9}{len(doubling(levels)):>7}{old:>15.2f}{measure:>13.3f}{old / measure:>9.0f}x")
        else:
            print(f"Z{levels:<9}{len(doubling(levels)):>7}{'(skipped)':>15}{measure:>13.3f}")


async def requests(runs: int = 101) -> None:
    directory = Path(tempfile.mkdtemp())
    catalog = f"sqlite:///{directory / 'catalog.db'}"
    migrate(catalog)
    gw = await start_gateway(catalog, f"sqlite:///{directory / 'warehouse.db'}")
    viewer = {"Authorization": f"Bearer {gw.token('VIEWER')}"}

    async def timed(query: str, headers: dict[str, str]) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            await gw.client.post("/graphql", json={"query": query}, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    try:
        floor = await timed("{ systemMode }", viewer)
        anonymous = await timed(doubling(18), {})
        refused = await timed(doubling(18), viewer)
    finally:
        await stop_gateway(gw)
    print(f"\nwhole requests, median of {runs} (ASGI transport):")
    print(f"  {{ systemMode }} as VIEWER (floor)  {floor:8.2f} ms")
    print(f"  Z18 anonymous (401)               {anonymous:8.2f} ms  {anonymous / floor:5.2f}x the floor")
    print(f"  Z18 as VIEWER (INVALID_INPUT)     {refused:8.2f} ms  {refused / floor:5.2f}x the floor")


if __name__ == "__main__":
    rules_and_measure()
    asyncio.run(requests())
