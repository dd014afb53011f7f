"""Functions the warehouse lacks, rewritten where an exact equivalent exists, else refused.

The warehouse's profile (:mod:`planner.capabilities.profiles`) lists what it lacks; this rule
holds the exact rewrites, per warehouse dialect, as a table of small functions. A rewrite may
decline (return None) when its exact form needs something it cannot see, e.g. a literal length:
then the function is refused with the profile's alternative.

>>> # SQLite:      LEFT(s, 2)                 -> SUBSTR(s, 1, 2)
>>> #              CONCAT(a, b)  (PostgreSQL)  -> COALESCE(a, '') || COALESCE(b, '')
>>> #              STARTS_WITH(s, p)           -> SUBSTR(s, 1, LENGTH(p)) = p
>>> # PostgreSQL:  ROUND(x, 2)                 -> ROUND(CAST(x AS DECIMAL), 2)
>>> #              MODE(x)                     -> MODE() WITHIN GROUP (ORDER BY x)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

from sqlglot import exp

from planner.capabilities import function_key, profile
from planner.errors import WarehouseUnsupported
from planner.positions import tree_span
from planner.rules.context import RewriteContext

Rewrite = Callable[[exp.Func], exp.Expr | None]


def portable_functions(tree: exp.Expr, ctx: RewriteContext) -> exp.Expr:
    prof = profile(ctx.warehouse)
    if not prof.lacks:
        return tree
    table = REWRITES.get(ctx.warehouse, {})
    # Children before parents, so an argument is rewritten before the call that holds it.
    for node in reversed(list(tree.find_all(exp.Func))):
        key = function_key(node)
        if key not in prof.lacks:
            continue
        rewrite = table.get(key)
        new = rewrite(node) if rewrite is not None else None
        if new is None:
            raise unsupported_function(node, key, ctx.warehouse)
        if node is tree:
            return new
        node.replace(new)
    return tree


def unsupported_function(node: exp.Expr, key: str, dialect: str) -> WarehouseUnsupported:
    prof = profile(dialect)
    shown = _shown(node)
    alternative = prof.lacks.get(key, "")
    hint = f"; write {alternative} instead" if alternative and not alternative.startswith("no ") else (
        f" ({alternative})" if alternative else "")
    return WarehouseUnsupported(f"{shown}() does not run on {prof.name}, the warehouse of this gateway{hint}.",
                                warehouse=dialect, feature=f"{shown}()", span=tree_span(node))


def _shown(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.upper()
    if isinstance(node, exp.Pad):
        return "LPAD" if node.args.get("is_left") else "RPAD"
    if isinstance(node, exp.Func):
        return node.sql_name()
    return type(node).__name__.upper()


@cache
def rewritable(dialect: str) -> frozenset[str]:
    """The lacking functions a rewrite exists for (it may still decline a particular call)."""
    return frozenset(REWRITES.get(dialect, {}))


# --- the rewrites ---------------------------------------------------------------------------

def _call(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _int_literal(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string and node.is_int:
        return int(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and node.this.is_int:
        return -int(node.this.this)
    return None


def _copy(node: exp.Expr | None) -> exp.Expr:
    assert node is not None
    return node.copy()


def _concat_pipes(node: exp.Func) -> exp.Expr:
    # PostgreSQL, Snowflake, …: CONCAT skips NULLs (sqlglot marks it `coalesce`); MySQL's returns NULL.
    skip_nulls = bool(node.args.get("coalesce"))
    parts = [exp.Coalesce(this=a.copy(), expressions=[exp.Literal.string("")]) if skip_nulls else a.copy()
             for a in node.expressions]
    if not parts:
        return exp.Literal.string("")
    out = parts[0]
    for part in parts[1:]:
        out = exp.DPipe(this=out, expression=part, safe=True)
    return exp.Paren(this=out) if len(parts) > 1 else out


def _left(node: exp.Func) -> exp.Expr | None:
    n = _int_literal(node.args.get("expression"))
    if n is None or n < 0:  # LEFT(s, -1) drops the last character; SUBSTR cannot say that
        return None
    return exp.Substring(this=_copy(node.this), start=exp.Literal.number(1), length=exp.Literal.number(n))


def _right(node: exp.Func) -> exp.Expr | None:
    n = _int_literal(node.args.get("expression"))
    if n is None or n < 1:  # SUBSTR(s, -0) is the whole text, RIGHT(s, 0) is ''
        return None
    return exp.Substring(this=_copy(node.this), start=exp.Literal.number(-n))


def _starts_with(node: exp.Func) -> exp.Expr:
    prefix = _copy(node.expression)
    return exp.Paren(this=exp.EQ(this=exp.Substring(this=_copy(node.this), start=exp.Literal.number(1),
                                                    length=exp.Length(this=prefix.copy())), expression=prefix))


def _ends_with_sqlite(node: exp.Func) -> exp.Expr:
    # SUBSTR(s, LENGTH(s) - LENGTH(p) + 1) = p: an empty suffix matches, a longer one never does.
    s, p = _copy(node.this), _copy(node.expression)
    start = exp.Add(this=exp.Sub(this=exp.Length(this=s.copy()), expression=exp.Length(this=p.copy())),
                    expression=exp.Literal.number(1))
    return exp.Paren(this=exp.EQ(this=exp.Substring(this=s, start=start), expression=p))


def _ends_with_postgres(node: exp.Func) -> exp.Expr:
    s, p = _copy(node.this), _copy(node.expression)
    return exp.Paren(this=exp.EQ(this=_call("RIGHT", s, exp.Length(this=p.copy())), expression=p))


def _contains(node: exp.Func) -> exp.Expr:
    return exp.Paren(this=exp.GT(this=exp.StrPosition(this=_copy(node.this), substr=_copy(node.expression)),
                                 expression=exp.Literal.number(0)))


def _count_distinct(node: exp.Func) -> exp.Expr:
    # An exact count is a valid answer to an approximate one.
    return exp.Count(this=exp.Distinct(expressions=[_copy(node.this)]))


def _cot(node: exp.Func) -> exp.Expr:
    return exp.Div(this=exp.Literal.number("1.0"), expression=exp.Tan(this=_copy(node.this)), typed=False, safe=False)


def _last_day_sqlite(node: exp.Func) -> exp.Expr | None:
    if node.args.get("unit") is not None:
        return None
    return _call("DATE", _copy(node.this), exp.Literal.string("start of month"), exp.Literal.string("+1 month"),
                 exp.Literal.string("-1 day"))


def _octet_length_sqlite(node: exp.Func) -> exp.Expr | None:
    if len(node.expressions) != 1:
        return None
    return exp.Length(this=exp.cast(node.expressions[0].copy(), "BLOB"))


def _every(node: exp.Func) -> exp.Expr | None:
    if len(node.expressions) != 1:
        return None
    return exp.LogicalAnd(this=node.expressions[0].copy())


def _strftime_int(fmt: str) -> Rewrite:
    def rewrite(node: exp.Func) -> exp.Expr:
        return exp.cast(_call("STRFTIME", exp.Literal.string(fmt), _copy(node.this)), "INTEGER")
    return rewrite


def _quarter_sqlite(node: exp.Func) -> exp.Expr:
    month = exp.cast(_call("STRFTIME", exp.Literal.string("%m"), _copy(node.this)), "INTEGER")
    return exp.Paren(this=exp.IntDiv(this=exp.Paren(this=exp.Add(this=month, expression=exp.Literal.number(2))),
                                     expression=exp.Literal.number(3)))


def _unix_to_time_sqlite(node: exp.Func) -> exp.Expr | None:
    if any(node.args.get(k) is not None for k in ("scale", "zone", "hours", "minutes", "format")):
        return None
    return _call("DATETIME", _copy(node.this), exp.Literal.string("unixepoch"))


def _time_to_unix_sqlite(node: exp.Func) -> exp.Expr:
    return _call("UNIXEPOCH", _copy(node.this))


def _repeat_sqlite(node: exp.Func) -> exp.Expr:
    # REPLACE(HEX(ZEROBLOB(n)), '00', s): n copies of s; NULL when n is NULL, as REPEAT gives.
    times = _copy(node.args.get("times"))
    built = exp.Replace(this=exp.Hex(this=_call("ZEROBLOB", times.copy())), expression=exp.Literal.string("00"),
                        replacement=_copy(node.this))
    return exp.Case(ifs=[exp.If(this=exp.Is(this=times, expression=exp.Null()), true=exp.Null())], default=built)


def _extract(unit: str, floor: bool = False) -> Rewrite:
    def rewrite(node: exp.Func) -> exp.Expr:
        out: exp.Expr = exp.Extract(this=exp.var(unit), expression=_copy(node.this))
        return exp.Floor(this=out) if floor else out
    return rewrite


def _log_numeric(node: exp.Func) -> exp.Expr:
    # PostgreSQL has LOG(b, x) for NUMERIC only: LOG(10, a double) fails, so both go through NUMERIC.
    if node.expression is None:
        return exp.Log(this=exp.cast(_copy(node.this), "DECIMAL"))
    return exp.Log(this=exp.cast(_copy(node.this), "DECIMAL"), expression=exp.cast(_copy(node.expression), "DECIMAL"))


def _round_numeric(node: exp.Func) -> exp.Expr:
    # PostgreSQL has ROUND(x, n) for NUMERIC only: ROUND(a double, 2) fails.
    if node.args.get("decimals") is None:
        return exp.Round(this=_copy(node.this))
    return exp.Round(this=exp.cast(_copy(node.this), "DECIMAL"), decimals=_copy(node.args.get("decimals")))


def _mode_within_group(node: exp.Func) -> exp.Expr:
    return exp.WithinGroup(this=_call("MODE"), expression=exp.Order(expressions=[exp.Ordered(this=_copy(node.this))]))


def _current_time(node: exp.Func) -> exp.Expr | None:
    # sqlglot prints CURRENT_TIME() for PostgreSQL, which only knows the bare keyword.
    return None if node.this is not None else exp.var("CURRENT_TIME")


REWRITES: Mapping[str, Mapping[str, Rewrite]] = {
    "sqlite": {
        "Concat": _concat_pipes, "Left": _left, "Right": _right, "StartsWith": _starts_with,
        "EndsWith": _ends_with_sqlite, "Contains": _contains, "ApproxDistinct": _count_distinct, "Cot": _cot,
        "LastDay": _last_day_sqlite, "octet_length": _octet_length_sqlite, "every": _every,
        "Year": _strftime_int("%Y"), "Month": _strftime_int("%m"), "Day": _strftime_int("%d"),
        "DayOfMonth": _strftime_int("%d"), "DayOfYear": _strftime_int("%j"), "Hour": _strftime_int("%H"),
        "Minute": _strftime_int("%M"), "Second": _strftime_int("%S"), "Quarter": _quarter_sqlite,
        "UnixToTime": _unix_to_time_sqlite, "TimeToUnix": _time_to_unix_sqlite, "Repeat": _repeat_sqlite,
    },
    "postgres": {
        "ApproxDistinct": _count_distinct, "Contains": _contains, "EndsWith": _ends_with_postgres,
        "CurrentTime": _current_time, "DayOfMonth": _extract("DAY"), "DayOfYear": _extract("DOY"),
        "Hour": _extract("HOUR"), "Minute": _extract("MINUTE"), "Second": _extract("SECOND", floor=True),
        "Quarter": _extract("QUARTER"), "WeekOfYear": _extract("WEEK"), "Log": _log_numeric,
        "Mode": _mode_within_group, "Round": _round_numeric,
    },
    "redshift": {"Concat": _concat_pipes},
}
