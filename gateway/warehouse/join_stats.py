"""Validation statistics of a join, measured on the warehouse with read-only SQL.

Each side is sampled (its first ``sample_size`` rows), so a check on a billion-row table costs
what one on a small table does. From the samples: null share of the join columns, whether each
side's key is unique (hence the cardinality), how many rows an inner join produces (computed from
per-key counts, never by materialising the join), and a few joined rows to look at. Value
inclusion looks the child's distinct sampled keys up in the *whole* parent, since a parent
sample would miss most of them.

All statements go through :meth:`Warehouse.execute_read_only`: read-only connections with the
statement timeout.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.warehouse.contract import Warehouse, quote_physical
from planner.join_scoring import Measurement

SAMPLE_SIZE = 100_000
INCLUSION_KEYS = 1_000
SAMPLE_ROWS = 5
DISPLAY_COLUMNS = 6


@dataclass(frozen=True, slots=True)
class JoinSide:
    label: str  # the logical table name, used to name sample-row fields
    physical_name: str
    columns: tuple[str, ...]  # join columns
    display: tuple[str, ...] = ()  # other columns to show in sample rows
    row_count: int | None = None


@dataclass(frozen=True, slots=True)
class JoinStats:
    measurement: Measurement
    sample_rows: list[dict[str, Any]]


class _Sql:
    def __init__(self, quote: Callable[[str], str], sample_size: int) -> None:
        self.q = quote
        self.n = int(sample_size)

    def table(self, side: JoinSide) -> str:
        return quote_physical(side.physical_name, self.q)

    def sample(self, side: JoinSide, columns: Sequence[str]) -> str:
        cols = ", ".join(self.q(c) for c in columns)
        return f"SELECT {cols} FROM {self.table(side)} LIMIT {self.n}"

    def side_stats(self, side: JoinSide) -> str:
        keys = [f"k{i}" for i in range(len(side.columns))]
        aliased = ", ".join(f"{self.q(c)} AS {k}" for c, k in zip(side.columns, keys, strict=True))
        any_null = " OR ".join(f"{k} IS NULL" for k in keys)
        none_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
        group = ", ".join(keys)
        return (f"WITH s AS (SELECT {aliased} FROM {self.table(side)} LIMIT {self.n}) "
                f"SELECT (SELECT COUNT(*) FROM s), (SELECT COUNT(*) FROM s WHERE {any_null}), "
                f"(SELECT COUNT(*) FROM (SELECT {group} FROM s WHERE {none_null} GROUP BY {group}) g)")

    def inclusion(self, child: JoinSide, parent: JoinSide, keys: int) -> str:
        names = [f"k{i}" for i in range(len(child.columns))]
        aliased = ", ".join(f"{self.q(c)} AS {k}" for c, k in zip(child.columns, names, strict=True))
        none_null = " AND ".join(f"{k} IS NOT NULL" for k in names)
        group = ", ".join(names)
        match = " AND ".join(f"p.{self.q(pc)} = c.{k}" for pc, k in zip(parent.columns, names, strict=True))
        return (f"WITH s AS (SELECT {aliased} FROM {self.table(child)} LIMIT {self.n}), "
                f"c AS (SELECT {group} FROM s WHERE {none_null} GROUP BY {group} LIMIT {int(keys)}) "
                f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM {self.table(parent)} p "
                f"WHERE {match}) THEN 1 ELSE 0 END), 0) FROM c")

    def joined_rows(self, left: JoinSide, right: JoinSide) -> str:
        def counts(side: JoinSide) -> str:
            names = [f"k{i}" for i in range(len(side.columns))]
            aliased = ", ".join(f"{self.q(c)} AS {k}" for c, k in zip(side.columns, names, strict=True))
            none_null = " AND ".join(f"{k} IS NOT NULL" for k in names)
            group = ", ".join(names)
            return (f"SELECT {group}, COUNT(*) AS n FROM (SELECT {aliased} FROM {self.table(side)} "
                    f"LIMIT {self.n}) s WHERE {none_null} GROUP BY {group}")

        match = " AND ".join(f"l.k{i} = r.k{i}" for i in range(len(left.columns)))
        return (f"SELECT COALESCE(SUM(l.n * r.n), 0) FROM ({counts(left)}) l "
                f"JOIN ({counts(right)}) r ON {match}")

    def sample_rows(self, left: JoinSide, right: JoinSide, rows: int) -> tuple[str, list[str]]:
        names: list[str] = []
        select: list[str] = []
        for alias, side in (("l", left), ("r", right)):
            shown = list(dict.fromkeys([*side.columns, *side.display]))[: max(DISPLAY_COLUMNS, len(side.columns))]
            for c in shown:
                select.append(f"{alias}.{self.q(c)} AS c{len(names)}")
                names.append(f"{side.label}.{c}")
        match = " AND ".join(f"l.{self.q(lc)} = r.{self.q(rc)}"
                             for lc, rc in zip(left.columns, right.columns, strict=True))
        return (f"SELECT {', '.join(select)} FROM {self.table(left)} l JOIN {self.table(right)} r "
                f"ON {match} LIMIT {int(rows)}"), names


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


async def measure_join(warehouse: Warehouse, left: JoinSide, right: JoinSide, *,
                       sample_size: int = SAMPLE_SIZE, inclusion_keys: int = INCLUSION_KEYS,
                       sample_rows: int = SAMPLE_ROWS) -> JoinStats:
    """Measure ``left`` joined to ``right`` (left is the referencing side); raises WarehouseError/Timeout."""
    if len(left.columns) != len(right.columns) or not left.columns:
        raise ValueError("a join needs the same number of columns on each side")
    sql = _Sql(warehouse.engine.dialect.identifier_preparer.quote, sample_size)

    async def one_row(statement: str) -> list[Any]:
        result = await warehouse.execute_read_only(statement, max_rows=1)
        return result.rows[0] if result.rows else []

    l_rows, l_nulls, l_distinct = (int(v or 0) for v in await one_row(sql.side_stats(left)))
    r_rows, r_nulls, r_distinct = (int(v or 0) for v in await one_row(sql.side_stats(right)))
    checked, found = (int(v or 0) for v in await one_row(sql.inclusion(left, right, inclusion_keys)))
    joined = int((await one_row(sql.joined_rows(left, right)))[0] or 0)
    statement, names = sql.sample_rows(left, right, sample_rows)
    rows = (await warehouse.execute_read_only(statement, max_rows=sample_rows)).rows
    measurement = Measurement(
        left_rows=l_rows, right_rows=r_rows, left_null_rows=l_nulls, right_null_rows=r_nulls,
        left_distinct=l_distinct, right_distinct=r_distinct, inclusion_checked=checked,
        inclusion_found=found, joined_rows=joined, sample_size=sample_size,
        left_total=left.row_count, right_total=right.row_count)
    return JoinStats(measurement, [{n: _json_safe(v) for n, v in zip(names, row, strict=True)} for row in rows])
