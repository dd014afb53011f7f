"""Date arithmetic sqlglot emits verbatim but SQLite cannot run: rewrite it, or refuse it.

>>> # DATE '1998-12-01' - INTERVAL '90' DAY   ->  DATE('1998-12-01', '-90 day')
>>> # EXTRACT(YEAR FROM x)                    ->  CAST(STRFTIME('%Y', x) AS INTEGER)
>>> # DATE_TRUNC('month', x)                  ->  DATE(x, 'start of month')
>>> # DATE_TRUNC('week', x)                   ->  DATE(x, '-6 day', 'weekday 1')   (the ISO week's Monday)
>>> # DATE_TRUNC('quarter', x)                ->  DATE(x, 'start of month', '-' || ((month - 1) % 3) || ' month')
>>> # d + INTERVAL '1' MONTH                  ->  MIN(DATE(d, '+1 month'), DATE(d, 'start of month', '+2 month', '-1 day'))
>>> # DATE_TRUNC('hour', x), EXTRACT(EPOCH …) ->  refused (WAREHOUSE_UNSUPPORTED, at the call)

Weeks: PostgreSQL, DuckDB, Spark, Trino and Snowflake truncate to the Monday of the ISO week, as
BigQuery's ``ISOWEEK`` does (its ``WEEK(SUNDAY)`` is not on the allow-list). Where the analyst's
dialect leaves the first day to a session setting (T-SQL's DATEFIRST), the week is refused.
"""

from __future__ import annotations

import re

from sqlglot import exp

from planner.errors import WarehouseUnsupported
from planner.positions import tree_span
from planner.rules.context import RewriteContext

_EXTRACT_FORMATS = {"YEAR": "%Y", "MONTH": "%m", "DAY": "%d", "HOUR": "%H", "MINUTE": "%M",
                    "SECOND": "%S", "DOW": "%w", "DAYOFWEEK": "%w", "DOY": "%j", "DAYOFYEAR": "%j",
                    "WEEK": "%W"}
_DATE_UNITS = {"DAY": "day", "MONTH": "month", "YEAR": "year"}
_TIME_UNITS = {"HOUR": "hour", "MINUTE": "minute", "SECOND": "second"}
_TRUNC = {"YEAR": "start of year", "MONTH": "start of month", "DAY": None}
_CANDIDATES = (exp.Add, exp.Sub, exp.Extract, exp.DateTrunc, exp.TimestampTrunc, exp.DatetimeTrunc, exp.Cast)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-(\d{2})")
_AMOUNT = re.compile(r"^\s*([+-]?\d+)\s*([a-zA-Z]+)?\s*$")


# Analyst dialects whose WEEK starts on a day a session setting chooses (T-SQL's DATEFIRST).
_WEEK_BY_SESSION = frozenset({"tsql"})


def sqlite_dates(tree: exp.Expr, ctx: RewriteContext) -> exp.Expr:
    if ctx.warehouse != "sqlite":
        return tree
    analyst = ctx.options.read_dialect
    # Children before parents (reversed breadth-first order), touching only candidate nodes.
    for node in reversed(list(tree.find_all(*_CANDIDATES))):
        new = _rewrite(node, analyst)
        if new is not node:
            if node is tree:
                return new
            node.replace(new)
    return tree


def _rewrite(node: exp.Expr, analyst: str) -> exp.Expr:
    # is_type() is given DataType.Type members: a type given as text is parsed again on every call.
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.INTERVAL):
        raise _unsupported("A computed INTERVAL cannot run on SQLite; use a constant such as INTERVAL '3' MONTH.",
                           "computed INTERVAL", node)
    if isinstance(node, exp.Add | exp.Sub):
        return _arithmetic(node)
    if isinstance(node, exp.Extract):
        unit = _unit(node.this)
        fmt = _EXTRACT_FORMATS.get(unit)
        if fmt is None:
            raise _unsupported(f"EXTRACT({unit} FROM …) cannot run on SQLite; use YEAR, MONTH, DAY, HOUR, MINUTE, "
                               f"SECOND, DOW or DOY.", f"EXTRACT({unit})", node)
        return exp.cast(_call("STRFTIME", exp.Literal.string(fmt), node.expression), "INTEGER")
    if isinstance(node, exp.DateTrunc | exp.TimestampTrunc | exp.DatetimeTrunc):
        return _truncate(node, analyst)
    return node


def _truncate(node: exp.Expr, analyst: str) -> exp.Expr:
    unit = _unit(node.args.get("unit"))
    if unit in _TRUNC:
        modifier = _TRUNC[unit]
        return _call("DATE", node.this, *([exp.Literal.string(modifier)] if modifier else []))
    if unit == "QUARTER":
        # Back to the first month of the quarter: (month - 1) % 3 months before the month's start.
        month = exp.cast(_call("STRFTIME", exp.Literal.string("%m"), node.this.copy()), "INTEGER")
        back = exp.Mod(this=exp.Paren(this=exp.Sub(this=month, expression=exp.Literal.number(1))),
                       expression=exp.Literal.number(3))
        shift = exp.DPipe(this=exp.DPipe(this=exp.Literal.string("-"), expression=exp.Paren(this=back)),
                          expression=exp.Literal.string(" month"))
        return _call("DATE", node.this, exp.Literal.string("start of month"), shift)
    if unit == "ISOWEEK" or (unit == "WEEK" and analyst not in _WEEK_BY_SESSION):
        # Six days back, then forward to a Monday (the same day when it is one): the ISO week's Monday.
        return _call("DATE", node.this, exp.Literal.string("-6 day"), exp.Literal.string("weekday 1"))
    raise _unsupported(f"DATE_TRUNC('{unit.lower()}', …) cannot run on SQLite; truncate to year, quarter, month, "
                       f"week or day, or compute it with STRFTIME.", f"DATE_TRUNC('{unit.lower()}')", node)


def _unsupported(message: str, feature: str, node: exp.Expr) -> WarehouseUnsupported:
    return WarehouseUnsupported(message, warehouse="sqlite", feature=feature, span=tree_span(node))


def _arithmetic(node: exp.Add | exp.Sub) -> exp.Expr:
    left, right = node.this, node.expression
    sign = -1 if isinstance(node, exp.Sub) else 1
    if isinstance(left, exp.Interval) and isinstance(node, exp.Add):
        left, right = right, left
    if isinstance(right, exp.Interval):
        amount, unit = _interval(right)
        return _shift(left, sign * amount, unit)
    if _is_date(left) and isinstance(right, exp.Literal) and not right.is_string and right.is_int:
        return _shift(left, sign * int(right.this), "DAY")
    return node


def _shift(base: exp.Expr, amount: int, unit: str) -> exp.Expr:
    if unit == "WEEK":
        amount, unit = amount * 7, "DAY"
    if isinstance(base, exp.Cast) and base.to.is_type(exp.DataType.Type.DATE):
        base = base.this
    if isinstance(base, exp.Anonymous) and base.name.upper() == "DATE" and len(base.expressions) == 1:
        base = base.expressions[0]
    if unit in ("MONTH", "YEAR") and not _early_in_month(base):
        # PostgreSQL (and the SQL standard) clamps to the month's last day: Jan 31 + 1 month is
        # Feb 29, where SQLite's modifier overflows to Mar 2. The smaller of the two is the answer.
        months = amount * (12 if unit == "YEAR" else 1)
        overflowing = _call("DATE", base, exp.Literal.string(f"{months:+d} month"))
        last_day = _call("DATE", base.copy(), exp.Literal.string("start of month"),
                         exp.Literal.string(f"{months + 1:+d} month"), exp.Literal.string("-1 day"))
        return _call("MIN", overflowing, last_day)
    if unit in _DATE_UNITS:
        return _call("DATE", base, exp.Literal.string(f"{amount:+d} {_DATE_UNITS[unit]}"))
    if unit in _TIME_UNITS:
        return _call("DATETIME", base, exp.Literal.string(f"{amount:+d} {_TIME_UNITS[unit]}"))
    raise _unsupported(f"Interval arithmetic in {unit.lower()}s cannot run on SQLite; use days, weeks, months, "
                       f"years, hours, minutes or seconds.", f"INTERVAL {unit}", base)


def _early_in_month(node: exp.Expr) -> bool:
    """A literal date on or before the 28th: adding months never overflows it."""
    match = _ISO_DATE.match(node.name) if isinstance(node, exp.Literal) and node.is_string else None
    return match is not None and int(match.group(1)) <= 28


def _interval(node: exp.Interval) -> tuple[int, str]:
    value, unit = node.this, _unit(node.args.get("unit"))
    match = _AMOUNT.match(value.name) if isinstance(value, exp.Literal) else None
    if match is None:
        raise _unsupported("Interval arithmetic with a computed amount cannot run on SQLite; use a constant such "
                           "as INTERVAL '3' MONTH.", "computed INTERVAL", node)
    if not unit:
        unit = (match.group(2) or "").upper()
    unit = unit.rstrip("S") if unit.endswith("S") and unit != "S" else unit
    return int(match.group(1)), unit


def _is_date(node: exp.Expr) -> bool:
    return (isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.DATE)) or (
        isinstance(node, exp.Anonymous) and node.name.upper() == "DATE")


def _unit(node: exp.Expr | None) -> str:
    if node is None:
        return ""
    return (node.name or node.sql()).upper()


def _call(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))
