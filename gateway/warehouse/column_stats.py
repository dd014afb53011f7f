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

A third, for the planner's estimates rather than the drift engine:

* :func:`measure_distinct` — every column's number of distinct non-NULL values, the figure a
  ``GROUP BY`` estimate multiplies. Cheap and bounded, by the table's size in cells (rows ×
  columns): up to ``EXACT_MAX_CELLS`` (2,000,000: 100,000 rows of 20 columns) one
  ``COUNT(DISTINCT …)`` query over the whole table counts them exactly; past it, a sample of about
  ``SAMPLE_ROWS`` rows (fewer for a wide table: at most ``SAMPLE_MAX_CELLS`` values) is read and
  each column's count estimated from it with the Haas–Stokes Duj1 estimator, the one
  PostgreSQL's ``ANALYZE`` uses. The sample is spread over the whole table
  (``Warehouse.sample_sql``: each row kept at random, in one scan without a sort; PostgreSQL reads
  only some pages of a table over a hundred samples' size), because the first rows of a table
  stored in date order hold a few dates and would under-count them. Spark, whose fence allows no
  random function, gives its first rows.

Everything runs through ``Warehouse.execute_read_only``: a read-only connection with the
statement timeout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from gateway.errors import WarehouseError
from gateway.warehouse.contract import Warehouse, quote_physical
from planner.drift import ColumnStats, minhash

SAMPLE_ROWS = 10_000
EXACT_MAX_CELLS = 2_000_000  # rows × columns counted exactly in one COUNT(DISTINCT) query
SAMPLE_MAX_CELLS = 1_000_000  # values a sample may bring into the gateway's memory
EXACT = "exact"
SAMPLED = "sampled"


class Measure(Enum):
    """What an exact measurement of a column can cheaply say, by the column's type family."""

    NUMBER = "NUMBER"  # min, max, digits after the point
    TEXT = "TEXT"  # longest value
    NULLS = "NULLS"  # only how many are NULL


def _quoter(warehouse: Warehouse) -> Callable[[str], str]:
    # The adapter's own quoting: DuckDB's native adapter has no SQLAlchemy engine to ask.
    return warehouse.quote


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


@dataclass(frozen=True, slots=True)
class DistinctCounts:
    counts: dict[str, int]  # column -> distinct non-NULL values
    method: str  # EXACT or SAMPLED
    rows_read: int  # the table's rows, or the sample's


async def measure_distinct(warehouse: Warehouse, physical_name: str, columns: Sequence[str], row_count: int, *,
                           exact_max_cells: int = EXACT_MAX_CELLS,
                           sample_max_cells: int = SAMPLE_MAX_CELLS) -> DistinctCounts:
    """Distinct non-NULL values of every column in ``columns``: exact for a table of at most
    ``exact_max_cells`` cells, else estimated from a sample (the module's docstring says how)."""
    if not columns:
        return DistinctCounts({}, EXACT, row_count)
    if row_count * len(columns) <= exact_max_cells:
        return DistinctCounts(await _count_distinct(warehouse, physical_name, columns), EXACT, row_count)
    limit = max(100, min(SAMPLE_ROWS, sample_max_cells // len(columns)))
    quote = _quoter(warehouse)
    names = ", ".join(quote(c) for c in columns)
    sql = warehouse.sample_sql(quote_physical(physical_name, quote), names, limit, row_count)
    result = await warehouse.execute_read_only(sql, max_rows=2 * limit)
    read = len(result.rows)
    counts = {name: duj1([_hashable(r[i]) for r in result.rows if r[i] is not None], read, row_count)
              for i, name in enumerate(columns)}
    return DistinctCounts(counts, SAMPLED if read < row_count else EXACT, read)


async def _count_distinct(warehouse: Warehouse, physical_name: str, columns: Sequence[str]) -> dict[str, int]:
    """One aggregate query; where the engine cannot compare a type (PostgreSQL's ``json``), again
    over each value's text."""
    quote = _quoter(warehouse)
    table = quote_physical(physical_name, quote)
    try:
        parts = ", ".join(f"COUNT(DISTINCT {quote(c)})" for c in columns)
        result = await warehouse.execute_read_only(f"SELECT {parts} FROM {table}", max_rows=1)
    except WarehouseError:
        parts = ", ".join(f"COUNT(DISTINCT {warehouse.text_cast(quote(c))})" for c in columns)
        result = await warehouse.execute_read_only(f"SELECT {parts} FROM {table}", max_rows=1)
    return {name: int(value or 0) for name, value in zip(columns, result.rows[0], strict=True)}


def duj1(values: Sequence[object], sample_rows: int, total_rows: int) -> int:
    """Distinct values of a column of ``total_rows`` rows, from the non-NULL ``values`` of a sample
    of ``sample_rows`` rows: Haas and Stokes' Duj1, ``n·d / (n − f1 + f1·n/N)`` (n values sampled,
    d distinct among them, f1 seen exactly once, N in the table), as PostgreSQL's ANALYZE does.

    >>> duj1(["a", "b", "a", "b"], 4, 1_000_000)  # no value seen once: every value was seen
    2
    >>> duj1(list(range(100)), 100, 10_000)  # every value seen once: a key
    10000
    """
    n = len(values)
    if n == 0 or sample_rows <= 0:
        return 0
    seen = Counter(values)
    d = len(seen)
    non_null = max(total_rows * n / sample_rows, float(n))  # the table's non-NULL values, scaled
    f1 = sum(1 for c in seen.values() if c == 1)
    if sample_rows >= total_rows or f1 == 0:
        return d
    if f1 == n:
        return round(non_null)
    estimate = n * d / ((n - f1) + f1 * n / non_null)
    return round(min(max(estimate, d), non_null))


def _hashable(value: object) -> object:
    # PostgreSQL json and arrays arrive as dicts and lists: counted by their text.
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return _text(value) if isinstance(value, float) else value
