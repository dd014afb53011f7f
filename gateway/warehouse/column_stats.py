"""Facts about columns' data, measured read-only on the warehouse for the drift engine.

Two kinds of measurement, both only for the columns a diff asks about:

* :func:`measure_exact` — null count, smallest and largest number, longest text and the most
  digits after the decimal point, in one aggregate query over the whole table. A narrowing is
  allowed through the promotion gate on these figures, so they must not come from a sample
  that could miss the one value that does not fit.
* :func:`sample_fingerprints` / :func:`ordered_fingerprints` — MinHash signatures
  (``planner.drift.minhash``) of a bounded sample of values (``LIMIT``, 10,000 by default) and
  the number of distinct values in it, the evidence that a renamed column is still itself.
  The first takes the first rows of one table in one query (comparable with an earlier sample
  of the same table); the second takes each column's smallest distinct values as text, which
  is comparable across two tables (a SHADOW version and the ACTIVE one).

Everything runs through ``Warehouse.execute_read_only``: a read-only connection with the
statement timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from enum import Enum

from gateway.warehouse.contract import Warehouse, quote_physical
from planner.drift import ColumnStats, minhash

SAMPLE_ROWS = 10_000


class Measure(Enum):
    """What an exact measurement of a column can cheaply say, by the column's type family."""

    NUMBER = "NUMBER"  # min, max, digits after the point
    TEXT = "TEXT"  # longest value
    NULLS = "NULLS"  # only how many are NULL


def _quoter(warehouse: Warehouse) -> Callable[[str], str]:
    return warehouse.engine.dialect.identifier_preparer.quote  # type: ignore[no-any-return]


def _number(value: object) -> int | float | Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return value
    return None


async def measure_exact(warehouse: Warehouse, physical_name: str,
                        columns: Mapping[str, Measure]) -> dict[str, ColumnStats]:
    """Exact statistics of ``columns`` (name → what to measure), in one aggregate query."""
    if not columns:
        return {}
    quote = _quoter(warehouse)
    parts = ["COUNT(*)"]
    layout: list[tuple[str, Measure, int]] = []
    for name, measure in columns.items():
        col = quote(name)
        start = len(parts)
        parts.append(f"COUNT({col})")
        if measure is Measure.NUMBER:
            parts += [f"MIN({col})", f"MAX({col})", warehouse.scale_sql(col)]
        elif measure is Measure.TEXT:
            parts.append(f"MAX(LENGTH({warehouse.text_cast(col)}))")
        layout.append((name, measure, start))
    sql = f"SELECT {', '.join(parts)} FROM {quote_physical(physical_name, quote)}"
    result = await warehouse.execute_read_only(sql, max_rows=1)
    row = result.rows[0]
    rows = int(row[0])
    out: dict[str, ColumnStats] = {}
    for name, measure, i in layout:
        nulls = rows - int(row[i])
        if measure is Measure.NUMBER:
            scale = row[i + 3]
            out[name] = ColumnStats(row_count=rows, null_count=nulls, min_value=_number(row[i + 1]),
                                    max_value=_number(row[i + 2]),
                                    max_scale=int(scale) if scale is not None else None)
        elif measure is Measure.TEXT:
            longest = row[i + 1]
            out[name] = ColumnStats(row_count=rows, null_count=nulls,
                                    max_length=int(longest) if longest is not None else 0)
        else:
            out[name] = ColumnStats(row_count=rows, null_count=nulls)
    return out


async def sample_fingerprints(warehouse: Warehouse, physical_name: str, columns: Sequence[str],
                              limit: int = SAMPLE_ROWS) -> dict[str, ColumnStats]:
    """Fingerprints of the first ``limit`` rows of one table, every column in one query."""
    if not columns:
        return {}
    quote = _quoter(warehouse)
    names = ", ".join(quote(c) for c in columns)
    sql = f"SELECT {names} FROM {quote_physical(physical_name, quote)} LIMIT {int(limit)}"
    result = await warehouse.execute_read_only(sql, max_rows=limit)
    out: dict[str, ColumnStats] = {}
    for i, name in enumerate(columns):
        values = [_text(r[i]) for r in result.rows if r[i] is not None]
        out[name] = ColumnStats(fingerprint=minhash(values), distinct_count=len(set(values)))
    return out


async def ordered_fingerprints(warehouse: Warehouse, physical_name: str, columns: Sequence[str],
                               limit: int = SAMPLE_ROWS) -> dict[str, ColumnStats]:
    """Fingerprints of each column's ``limit`` smallest distinct values (as text): the same
    data in two tables gives the same sample, whatever order the rows are stored in."""
    quote = _quoter(warehouse)
    table = quote_physical(physical_name, quote)
    out: dict[str, ColumnStats] = {}
    for name in columns:
        col = warehouse.text_cast(quote(name))
        sql = (f"SELECT DISTINCT {col} AS v FROM {table} WHERE {quote(name)} IS NOT NULL "
               f"ORDER BY v LIMIT {int(limit)}")
        result = await warehouse.execute_read_only(sql, max_rows=limit)
        values = [str(r[0]) for r in result.rows]
        out[name] = ColumnStats(fingerprint=minhash(values), distinct_count=len(values))
    return out


def _text(value: object) -> str:
    # Integral floats read back from SQLite as 1.0 where the text form says 1: one spelling.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
