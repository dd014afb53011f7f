"""The demo warehouse in DuckDB: the same seeded rows as the SQLite demo, in a ``.duckdb`` file.

Built from the SQLite demo (generated first, beside it, with the same seed and scale) so both
engines hold identical data; each table is copied in one statement per 50,000 rows, every column
bound as one list (``unnest``: DuckDB's ``executemany`` is a round trip per row). The SHADOW
table lives in the ``spyne_shadow`` schema, as the gateway's naming rules say for DuckDB. The
file is built beside the target and renamed over it, so a reader never sees half a warehouse.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

from gateway.warehouse.demo_data import _INDEXES, _SCHEMA, DemoSummary, Progress, generate_demo_warehouse
from gateway.warehouse.naming import SHADOW_PREFIX, SHADOW_SCHEMA

CHUNK = 50_000


def duckdb_name(physical: str) -> str:
    """A demo table's name in DuckDB: the SHADOW prefix becomes the shadow schema."""
    if physical.startswith(SHADOW_PREFIX):
        return f"{SHADOW_SCHEMA}.{physical.removeprefix(SHADOW_PREFIX)}"
    return physical


def duckdb_path(url_or_path: str) -> Path:
    """The file behind ``duckdb:///x.duckdb`` or a plain path."""
    if "://" not in url_or_path:
        return Path(url_or_path)
    scheme, _, rest = url_or_path.partition("://")
    if scheme.split("+")[0] != "duckdb" or not rest.startswith("/") or rest in ("/", "/:memory:"):
        raise ValueError(f"the DuckDB demo warehouse is a file; got {scheme}:// — use duckdb:///path/to/file.duckdb")
    return Path(rest[1:].split("?")[0])


def _quoted(name: str) -> str:
    return ".".join(f'"{part}"' for part in name.split("."))


def generate_demo_duckdb(url_or_path: str, *, seed: int = 7, scale: float = 1.0,
                         progress: Progress | None = None) -> DemoSummary:
    import duckdb

    say = progress or (lambda _message: None)
    began = time.perf_counter()
    target = duckdb_path(url_or_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = generate_demo_warehouse(str(target.with_name(target.name + ".sqlite-source")), seed=seed,
                                     scale=scale, progress=say)
    building = target.with_name(target.name + ".building")
    for leftover in (building, Path(f"{building}.wal")):
        leftover.unlink(missing_ok=True)
    schema, indexes = _SCHEMA, _INDEXES
    for physical in source.row_counts:
        if physical.startswith(SHADOW_PREFIX):
            schema = schema.replace(physical, _quoted(duckdb_name(physical)))
    say(f"copying the demo into DuckDB at {target}")
    lite = sqlite3.connect(source.path)
    conn = duckdb.connect(str(building))
    try:
        conn.execute(f"CREATE SCHEMA {SHADOW_SCHEMA}")
        conn.execute(schema)
        # Parents before children: the foreign keys are checked as rows arrive.
        for physical in source.row_counts:
            started = time.perf_counter()
            cursor = lite.execute(f'SELECT * FROM "{physical}"')
            names = [d[0] for d in cursor.description]
            columns = ", ".join(f'"{n}"' for n in names)
            unnested = ", ".join(f"unnest(?) AS c{i}" for i in range(len(names)))
            insert = f"INSERT INTO {_quoted(duckdb_name(physical))} ({columns}) SELECT * FROM (SELECT {unnested})"
            while rows := cursor.fetchmany(CHUNK):
                conn.execute(insert, [list(column) for column in zip(*rows, strict=True)])
            say(f"  {duckdb_name(physical):<34} {source.row_counts[physical]:>8,} rows  "
                f"{time.perf_counter() - started:5.2f}s")
        conn.execute(indexes)
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
        lite.close()
    os.replace(building, target)
    source.path.unlink(missing_ok=True)
    tables = tuple(replace(t, versions=tuple(replace(v, physical_name=duckdb_name(v.physical_name))
                                             for v in t.versions)) for t in source.tables)
    summary = DemoSummary(path=target, seed=seed, scale=scale, tables=tables,
                          elapsed_s=time.perf_counter() - began)
    say(f"DuckDB demo warehouse ready: {summary.total_rows:,} rows in {summary.elapsed_s:.2f}s")
    return summary
