"""Same meaning on every warehouse: where the analyst's dialect and the warehouse's would answer the
same SQL differently, emit SQL that gives the analyst's answer, refuse, or say so in the preview.

Runs only when the two dialects differ. Expressions are typed from the catalog's column types
under each dialect's rules (the tables below), enough to decide:

- division: ``SUM(qty) / COALESCE(x + y, 1)`` is numeric division in PostgreSQL (``SUM(bigint)`` is
  ``numeric``) and integer division in SQLite: the numerator is cast so the warehouse divides as
  the analyst's dialect does (or ``IntDiv`` where the analyst's divides integers and the
  warehouse's would not); where a side's type is unknown the preview says so;
- division by zero: NULL on SQLite/MySQL, an error on PostgreSQL — sqlglot guards the divisor
  with NULLIF where the analyst's dialect gives NULL; the other way round, the preview says so;
- booleans: SUM/AVG of a condition is cast to an integer for warehouses that have real booleans;
  a condition returned as a column comes back as 1/0 from warehouses that have none (said so);
  a BOOLEAN column compared with 1 or 0 (as SQLite and MySQL store it) is compared with TRUE or
  FALSE, and with any other number refused; SUM/AVG of a BOOLEAN column is cast to an integer;
  and where the analyst writes for a warehouse with strict booleans (PostgreSQL, Trino) in its own
  dialect, a BOOLEAN compared with a number, or summed, is refused at preview with the fix
  (the warehouse would refuse it at execution);
- dates: ``date - date`` is a number of days in PostgreSQL and DuckDB; SQLite subtracts the
  leading digits of the text, so it becomes ``JULIANDAY`` arithmetic; ``timestamp - timestamp``
  (an interval) is refused on SQLite.

NULL ordering and ``||``/``CONCAT`` with NULL are handled where the SQL is generated (sqlglot
writes NULLS FIRST/LAST explicitly; :mod:`planner.rules.portable_functions` keeps CONCAT's
NULL-skipping); tests/planner/test_same_meaning_live.py runs one case per difference on SQLite
and PostgreSQL and compares with the analyst dialect's answer.
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from planner.capabilities import PROFILES, profile
from planner.errors import WarehouseUnsupported
from planner.positions import Fix, node_span, tree_span
from planner.rules.context import RewriteContext
from planner.scopes import Scope, build_scopes

INT4, INT8, NUM, FLOAT, TEXT, DATE, TIMESTAMP, BOOL = "int4", "int8", "num", "float", "text", "date", "ts", "bool"
INTEGERS = frozenset({INT4, INT8})

# SUM's result by the argument's family, per dialect (default: the argument's family).
SUM_RESULT: dict[str, dict[str, str]] = {
    "postgres": {INT4: INT8, INT8: NUM, BOOL: "error"}, "redshift": {INT4: INT8, INT8: NUM},
    "mysql": {INT4: NUM, INT8: NUM}, "snowflake": {INT4: NUM, INT8: NUM},
    "sqlite": {BOOL: INT8}, "duckdb": {INT4: INT8}, "spark": {INT4: INT8}, "trino": {INT4: INT8},
}
# AVG's result for integer arguments, per dialect (default FLOAT).
AVG_RESULT: dict[str, str] = {"postgres": NUM, "redshift": INT8, "mysql": NUM, "snowflake": NUM, "tsql": INT8}
# A decimal literal such as 1.5, per dialect (default NUM).
DECIMAL_LITERAL: dict[str, str] = {"sqlite": FLOAT, "bigquery": FLOAT, "spark": NUM}
# Warehouses without a boolean type (conditions come back as 1/0).
NO_BOOLEANS = frozenset({"sqlite", "mysql"})
# Warehouses with no `boolean = integer` and no SUM(boolean): there a BOOLEAN meets a number only
# by the analyst's mistake, which the warehouse refuses at execution.
STRICT_BOOLEANS = frozenset({"postgres", "trino"})
# Warehouses where `date - date` is a number of days.
DATE_MINUS_DATE_IS_DAYS = frozenset({"postgres", "duckdb", "redshift"})
# What a numeric (non-integer) division is written as on each warehouse: the type of the cast.
NON_INTEGER_TYPE: dict[str, str] = {"sqlite": "REAL", "postgres": "DOUBLE PRECISION", "mysql": "DOUBLE"}

_TYPE_WORDS: tuple[tuple[str, str], ...] = (
    ("BOOL", BOOL), ("BIGINT", INT8), ("INT8", INT8), ("LONG", INT8), ("SERIAL", INT4), ("INT", INT4),
    ("DEC", NUM), ("NUMERIC", NUM), ("NUMBER", NUM), ("REAL", FLOAT), ("FLOAT", FLOAT), ("DOUBLE", FLOAT),
    ("TIMESTAMP", TIMESTAMP), ("DATETIME", TIMESTAMP), ("DATE", DATE), ("CHAR", TEXT), ("TEXT", TEXT),
    ("CLOB", TEXT), ("STRING", TEXT),
)


@lru_cache(maxsize=1024)  # a catalog's column types are few, and asked for on every plan
def family_of_type(type_name: str, warehouse: str) -> str | None:
    upper = type_name.upper()
    for word, fam in _TYPE_WORDS:
        if word in upper:
            # SQLite stores every integer in 8 bytes: its INTEGER is a BIGINT to any other dialect.
            return INT8 if fam == INT4 and warehouse == "sqlite" else fam
    return None


def same_meaning(tree: exp.Expr, ctx: RewriteContext) -> exp.Expr:
    analyst, warehouse = ctx.options.read_dialect, ctx.warehouse
    if analyst == warehouse:
        if warehouse in STRICT_BOOLEANS:
            _strict_booleans(tree, ctx, warehouse)
        return tree
    candidates = list(tree.find_all(exp.Div, exp.Sub, exp.Sum, exp.Avg))
    numbered_booleans = analyst in NO_BOOLEANS and warehouse not in NO_BOOLEANS
    comparisons = list(tree.find_all(*_COMPARISONS)) if numbered_booleans else []
    if not candidates and not comparisons and warehouse not in NO_BOOLEANS:
        return tree
    typer = _Typer(tree, ctx)
    for comparison in comparisons:
        _boolean_comparison(comparison, typer, warehouse)
    notes = ctx.notes
    a_dialect, w_dialect = Dialect.get_or_raise(analyst), Dialect.get_or_raise(warehouse)
    w_name = profile(warehouse).name
    a_name = PROFILES[analyst].name if analyst in PROFILES else analyst
    unknown_division = zero_note = False
    for node in reversed(candidates):
        if isinstance(node, exp.Div):
            unknown_division |= not _division(node, typer, analyst, warehouse, a_dialect, w_dialect)
            zero_note |= (not a_dialect.SAFE_DIVISION and w_dialect.SAFE_DIVISION
                          and not _nonzero_literal(node.expression))
        elif isinstance(node, exp.Sub):
            _date_difference(node, typer, analyst, warehouse)
        elif isinstance(node, exp.Sum | exp.Avg) and warehouse not in NO_BOOLEANS and (
                _is_condition(node.this) or typer.family(node.this, warehouse) == BOOL):
            node.set("this", exp.cast(node.this.copy(), "INT"))
    if unknown_division:
        notes.append(f"A division's operand types are unknown to the planner; {w_name} divides two integers "
                     f"{'as integers' if w_dialect.TYPED_DIVISION else 'exactly'}, which may differ from {a_name}.")
    if zero_note:
        notes.append(f"Division by zero gives NULL on {w_name}, where {a_name} would stop with an error.")
    if warehouse in NO_BOOLEANS and analyst not in NO_BOOLEANS and _returns_condition(tree):
        notes.append(f"Conditions returned as columns come back as 1/0 on {w_name}, not true/false.")
    return tree


def _division(node: exp.Div, typer: _Typer, analyst: str, warehouse: str, a_dialect: Dialect,
              w_dialect: Dialect) -> bool:
    """Make the warehouse divide as the analyst's dialect would; False when the types are unknown."""
    a_left, a_right = typer.family(node.this, analyst), typer.family(node.expression, analyst)
    w_left, w_right = typer.family(node.this, warehouse), typer.family(node.expression, warehouse)
    if None in (a_left, a_right, w_left, w_right):
        return a_dialect.TYPED_DIVISION == w_dialect.TYPED_DIVISION
    analyst_int = bool(node.args.get("typed")) and a_left in INTEGERS and a_right in INTEGERS
    warehouse_int = w_dialect.TYPED_DIVISION and w_left in INTEGERS and w_right in INTEGERS
    # The decision is made here, from types; sqlglot must not second-guess it when generating.
    node.set("typed", w_dialect.TYPED_DIVISION)
    if analyst_int and not warehouse_int:
        node.replace(exp.IntDiv(this=node.this.copy(), expression=node.expression.copy()))
    elif warehouse_int and not analyst_int:
        cast_to = NON_INTEGER_TYPE.get(warehouse, "DOUBLE")
        if warehouse == "postgres" and NUM in (a_left, a_right):
            cast_to = "NUMERIC"
        node.set("this", exp.cast(node.this.copy(), exp.DataType.build(cast_to, dialect=warehouse)))
    return True


def _date_difference(node: exp.Sub, typer: _Typer, analyst: str, warehouse: str) -> None:
    if warehouse != "sqlite" or analyst not in DATE_MINUS_DATE_IS_DAYS:
        return
    left, right = typer.family(node.this, analyst), typer.family(node.expression, analyst)
    if left == DATE and right == DATE:
        days = exp.Sub(this=_julianday(node.this), expression=_julianday(node.expression))
        node.replace(exp.cast(days, "INTEGER"))
    elif left == TIMESTAMP and right in (DATE, TIMESTAMP):
        raise WarehouseUnsupported("Subtracting timestamps gives an interval, which SQLite does not have; write "
                                   "(JULIANDAY(a) - JULIANDAY(b)) * 24 for hours.", warehouse="sqlite",
                                   feature="timestamp - timestamp", span=tree_span(node))


_COMPARISONS = (exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In)


def _boolean_comparison(node: exp.Expr, typer: _Typer, warehouse: str) -> None:
    """``active = 1`` on a BOOLEAN column, written where booleans are 1/0: ``active = TRUE`` on a
    warehouse with real booleans (PostgreSQL has no ``boolean = integer``); any other number can
    never equal a boolean there, so it is refused rather than guessed."""
    if isinstance(node, exp.In):
        column, literals = node.this, list(node.expressions)
    else:
        column, literals = node.this, [node.expression]
        if typer.family(column, warehouse) != BOOL:
            column, literals = node.expression, [node.this]
    if typer.family(column, warehouse) != BOOL:
        return
    for literal in literals:
        number = _number(literal)
        if number is None:
            continue
        if number not in (0, 1):
            raise WarehouseUnsupported(
                f"'{column.sql()}' is a boolean; {profile(warehouse).name} compares it with TRUE or FALSE only, and "
                f"{literal.sql()} is neither 1 nor 0. Write {column.sql()} = TRUE or {column.sql()} = FALSE.",
                warehouse=warehouse, feature="boolean compared with a number", span=tree_span(node))
        literal.replace(exp.Boolean(this=number == 1))


def _strict_booleans(tree: exp.Expr, ctx: RewriteContext, warehouse: str) -> None:
    """The analyst writes the warehouse's own dialect: ``active = 1`` or ``SUM(active)`` on a BOOLEAN
    column is their mistake, which the warehouse would refuse at execution; refused here, with the fix."""
    comparisons = [c for c in tree.find_all(*_COMPARISONS)
                   if any(_number(side) is not None for side in _sides(c))]
    sums = list(tree.find_all(exp.Sum, exp.Avg))
    if not comparisons and not sums:
        return
    # Only "is it a BOOLEAN?" is asked below. When no table the query reads has a boolean column,
    # no column is one, and a column typed as unknown gets the same answer everywhere (a family
    # is BOOL only through a BOOLEAN column, a CAST or a condition): then the scopes that type
    # columns, the costly part, are not built.
    typer = _Typer(tree, ctx, columns=_reads_booleans(ctx, warehouse))
    name = profile(warehouse).name
    for node in comparisons:
        sides = _sides(node)
        column = next((side for side in sides if typer.family(side, warehouse) == BOOL), None)
        literal = next((side for side in sides if _number(side) is not None), None)
        if column is None or literal is None:
            continue
        number = _number(literal)
        written = column.sql(dialect=ctx.options.read_dialect)
        fixes: tuple[Fix, ...] = ()
        span = node_span(literal)
        if number in (0, 1) and span is not None:
            word = "TRUE" if number == 1 else "FALSE"
            fixes = (Fix(f"Replace with {word}", word, span),)
        error = WarehouseUnsupported(
            f"'{written}' is a boolean, and {name} cannot compare a boolean with a number; write "
            f"{written} = TRUE or {written} = FALSE.", warehouse=warehouse, feature="boolean compared with a number",
            span=tree_span(node))
        error.fixes = fixes
        raise error
    for node in sums:
        if not _is_condition(node.this) and typer.family(node.this, warehouse) == BOOL:
            argument = node.this.sql(dialect=ctx.options.read_dialect)
            raise WarehouseUnsupported(
                f"'{argument}' is a boolean, and {name} cannot {node.key.upper()} a boolean; write "
                f"{node.key.upper()}(CASE WHEN {argument} THEN 1 ELSE 0 END) or COUNT(*) FILTER (WHERE {argument}).",
                warehouse=warehouse, feature=f"{node.key.upper()} of a boolean", span=tree_span(node))


def _reads_booleans(ctx: RewriteContext, warehouse: str) -> bool:
    return any(family_of_type(c.type, warehouse) == BOOL for b in ctx.resolution.tables for c in b.version.columns)


def _sides(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.In):
        return [node.this, *node.expressions]
    return [node.this, node.expression]


def _number(node: exp.Expr) -> float | None:
    """The value of a numeric literal (``1``, ``1.0``, ``-1``, ``(0)``), else None."""
    sign = 1.0
    while isinstance(node, exp.Paren | exp.Neg):
        sign = -sign if isinstance(node, exp.Neg) else sign
        node = node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return sign * float(node.this)
        except ValueError:
            return None
    return None


def _julianday(node: exp.Expr) -> exp.Expr:
    inner = node.this if isinstance(node, exp.Cast) else node
    return exp.Anonymous(this="JULIANDAY", expressions=[inner.copy()])


def _nonzero_literal(node: exp.Expr) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, exp.Literal) and not node.is_string and node.this.strip("0.") != ""


_CONDITIONS = (exp.Predicate, exp.Connector, exp.Not, exp.Boolean)


def _is_condition(node: exp.Expr) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, _CONDITIONS)


def _returns_condition(tree: exp.Expr) -> bool:
    select = tree
    while isinstance(select, exp.SetOperation | exp.Subquery):
        select = select.this
    if not isinstance(select, exp.Select):
        return False
    return any(_is_condition(p.this if isinstance(p, exp.Alias) else p) for p in select.expressions)


class _Typer:
    """Families of expressions under a dialect's rules, columns typed from the catalog."""

    def __init__(self, tree: exp.Expr, ctx: RewriteContext, columns: bool = True) -> None:
        """``columns=False``: every column's family is unknown (and no scopes are built)."""
        self._warehouse = ctx.warehouse
        self._scopes: dict[int, Scope] = (
            {id(s.select): s for s in build_scopes(tree, ctx.resolution)} if columns else {})

    def family(self, node: exp.Expr, dialect: str) -> str | None:
        if isinstance(node, exp.Paren | exp.Neg | exp.Abs | exp.Round | exp.Floor | exp.Ceil | exp.Alias):
            return self.family(node.this, dialect)
        if isinstance(node, exp.Column):
            return self._column(node)
        if isinstance(node, exp.Literal):
            if node.is_string:
                return TEXT
            return INT4 if node.is_int else DECIMAL_LITERAL.get(dialect, NUM)
        if isinstance(node, exp.Cast):
            return family_of_type(node.to.sql(dialect=dialect), dialect)
        if isinstance(node, exp.Count):
            return INT8
        if isinstance(node, exp.Sum):
            arg = self.family(node.this, dialect) if not _is_condition(node.this) else BOOL
            return None if arg is None else SUM_RESULT.get(dialect, {}).get(arg, arg)
        if isinstance(node, exp.Avg):
            arg = self.family(node.this, dialect)
            return None if arg is None else AVG_RESULT.get(dialect, FLOAT) if arg in INTEGERS else arg
        if isinstance(node, exp.Max | exp.Min):
            return self.family(node.this, dialect)
        if isinstance(node, exp.Coalesce | exp.Greatest | exp.Least):
            return self._common([node.this, *node.expressions], dialect)
        if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Mod):
            return self._common([node.this, node.expression], dialect)
        if isinstance(node, exp.Div):
            both = self._common([node.this, node.expression], dialect)
            typed = Dialect.get_or_raise(dialect).TYPED_DIVISION
            return both if both not in INTEGERS or typed else FLOAT
        if isinstance(node, exp.Length | exp.StrPosition):
            return INT8
        return None

    def _common(self, nodes: list[exp.Expr], dialect: str) -> str | None:
        families = [self.family(n, dialect) for n in nodes if not isinstance(n, exp.Null)]
        if not families or None in families:
            return None
        for widest in (FLOAT, NUM, INT8, INT4):
            if widest in families:
                return widest if all(f in (FLOAT, NUM, INT8, INT4) for f in families) else None
        return families[0] if all(f == families[0] for f in families) else None

    def _column(self, column: exp.Column) -> str | None:
        select = column.parent_select
        scope = self._scopes.get(id(select)) if select is not None else None
        source = scope.owner(column) if scope is not None else None
        if source is None or source.version is None:
            return None
        name = column.name.lower()
        for col in source.version.columns:
            if col.name.lower() == name:
                return family_of_type(col.type, self._warehouse)
        return None
