"""Structured corrections, applied to the AST of ``plan.analyst_sql`` — never to its text.

Targets are found again by what the plan showed: the n-th filter or aggregation is the n-th
node whose generated SQL equals the plan's string (the same generator made both), and a join by
its ON condition. The caller re-plans the returned SQL, so every check runs again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from planner.analysis import where_conjuncts
from planner.errors import InvalidCorrection
from planner.model import Correction, Pin, Plan, PlanOptions
from planner.parse import parse
from planner.scopes import outermost_select
from planner.sqlgen import query_sql, snippet

JOIN_TYPES = ("INNER", "LEFT", "RIGHT", "FULL")
AGGREGATES: dict[str, Callable[[exp.Expr], exp.Expr]] = {
    "SUM": lambda e: exp.Sum(this=e), "AVG": lambda e: exp.Avg(this=e), "MIN": lambda e: exp.Min(this=e),
    "MAX": lambda e: exp.Max(this=e), "COUNT": lambda e: exp.Count(this=e),
    "COUNT_DISTINCT": lambda e: exp.Count(this=exp.Distinct(expressions=[e])),
}
CORRECTION_KINDS = ("SET_JOIN_TYPE", "ADD_FILTER", "REMOVE_FILTER", "SET_AGGREGATION", "SET_GROUP_BY",
                    "SET_LIMIT", "PIN_VERSION")


def apply_corrections(plan: Plan, corrections: Sequence[Correction],
                      options: PlanOptions) -> tuple[str, PlanOptions]:
    """The corrected analyst SQL and options (pins changed by PIN_VERSION); the caller re-plans."""
    tree = parse(plan.analyst_sql, plan.dialect, max(options.max_sql_bytes, len(plan.analyst_sql.encode()) + 1))
    for correction in corrections:
        if correction.kind == "PIN_VERSION":
            options = _pin(correction, options)
            continue
        handler = _HANDLERS.get(correction.kind)
        if handler is None:
            raise InvalidCorrection(f"Unknown correction {correction.kind!r}; use one of {', '.join(CORRECTION_KINDS)}.")
        handler(tree, plan, correction)
    return query_sql(tree, plan.dialect), options


def _set_join_type(tree: exp.Expr, plan: Plan, c: Correction) -> None:
    join = _item(plan.joins, c.join_index, "join")
    kind = (c.join_type or "").upper()
    if kind not in JOIN_TYPES:
        raise InvalidCorrection(f"join_type must be one of {', '.join(JOIN_TYPES)}.")
    for node in tree.find_all(exp.Join):
        on = node.args.get("on")
        if on is not None and join.condition is not None and snippet(on, plan.dialect) == join.condition:
            node.set("side", None if kind == "INNER" else kind)
            node.set("kind", None)
            return
    raise InvalidCorrection(f"Join {c.join_index} is not written as JOIN … ON; rewrite it as an explicit "
                            f"JOIN with an ON condition to change its type.")


def _add_filter(tree: exp.Expr, plan: Plan, c: Correction) -> None:
    condition = _expression(c.condition, plan.dialect, "condition")
    select = _outer(tree)
    where = select.args.get("where")
    if where is None:
        select.set("where", exp.Where(this=condition))
    else:
        # Append as one more conjunct (no parentheses around the old ones) so filters stay a flat list.
        where.set("this", exp.And(this=_grouped(where.this), expression=_grouped(condition)))


def _remove_filter(tree: exp.Expr, plan: Plan, c: Correction) -> None:
    if c.filter_index is not None:
        text = _item(plan.filters, c.filter_index, "filter")
        nth = plan.filters[: c.filter_index].count(text)
    elif c.condition:
        text = snippet(_expression(c.condition, plan.dialect, "condition"), plan.dialect)
        nth = 0
    else:
        raise InvalidCorrection("REMOVE_FILTER needs filter_index or condition.")
    matches = [n for n in where_conjuncts(tree) if snippet(n, plan.dialect) == text]
    if len(matches) <= nth:
        raise InvalidCorrection(f"No filter {text!r} to remove; pick one from the preview's filters.")
    target = matches[nth]
    parent = target.parent
    if isinstance(parent, exp.And):
        parent.replace(parent.expression if parent.this is target else parent.this)
    elif isinstance(parent, exp.Where | exp.Having):
        parent.pop()


def _set_aggregation(tree: exp.Expr, plan: Plan, c: Correction) -> None:
    text = _item(plan.aggregations, c.aggregation_index, "aggregation")
    function = (c.function or "").upper()
    if function not in AGGREGATES:
        raise InvalidCorrection(f"function must be one of {', '.join(AGGREGATES)}.")
    nth = plan.aggregations[: c.aggregation_index].count(text)
    matches = [n for n in tree.find_all(exp.AggFunc) if snippet(n, plan.dialect) == text]
    if len(matches) <= nth:
        raise InvalidCorrection(f"No aggregation {text!r} to change.")
    target = matches[nth]
    argument = target.this
    if isinstance(argument, exp.Distinct):
        argument = argument.expressions[0]
    if argument is None:
        argument = exp.Star()
    if isinstance(argument, exp.Star) and function != "COUNT":
        raise InvalidCorrection(f"{function}(*) is not an aggregation; pick a column.")
    target.replace(AGGREGATES[function](argument))


def _set_group_by(tree: exp.Expr, plan: Plan, c: Correction) -> None:
    select = _outer(tree)
    columns = [_expression(col, plan.dialect, "column") for col in c.columns]
    select.set("group", exp.Group(expressions=columns) if columns else None)


def _set_limit(tree: exp.Expr, plan: Plan, c: Correction) -> None:
    if c.limit is None or c.limit < 0:
        raise InvalidCorrection("limit must be zero or a positive integer.")
    query = tree.this if isinstance(tree, exp.Subquery) else tree
    query.set("limit", exp.Limit(expression=exp.Literal.number(c.limit)))


def _pin(c: Correction, options: PlanOptions) -> PlanOptions:
    if not c.table or c.version is None or c.version < 1:
        raise InvalidCorrection("PIN_VERSION needs a table and a version (1, 2, …).")
    kept = [p for p in options.pins if p.table.lower() != c.table.lower()]
    pins = (*kept, Pin(c.table.lower(), c.version))
    return replace(options, pins=pins)


_HANDLERS: dict[str, Callable[[exp.Expr, Plan, Correction], None]] = {
    "SET_JOIN_TYPE": _set_join_type, "ADD_FILTER": _add_filter, "REMOVE_FILTER": _remove_filter,
    "SET_AGGREGATION": _set_aggregation, "SET_GROUP_BY": _set_group_by, "SET_LIMIT": _set_limit,
}


def _item(items: tuple[str, ...] | tuple[object, ...], index: int | None, what: str):  # type: ignore[no-untyped-def]
    if index is None or not 0 <= index < len(items):
        raise InvalidCorrection(f"{what}_index must be between 0 and {len(items) - 1}.")
    return items[index]


def _expression(text: str | None, dialect: str, what: str) -> exp.Expr:
    if not text or not text.strip():
        raise InvalidCorrection(f"The {what} is empty.")
    try:
        node = sqlglot.parse_one(text, read=dialect, error_level=ErrorLevel.RAISE)
    except (SqlglotError, RecursionError, ValueError) as e:
        raise InvalidCorrection(f"The {what} {text!r} is not valid SQL: {e}") from None
    if not isinstance(node, exp.Condition) or isinstance(node, exp.Query):
        raise InvalidCorrection(f"The {what} must be an expression, not a statement.")
    return node


def _outer(tree: exp.Expr) -> exp.Select:
    select = outermost_select(tree)
    if select is None:
        raise InvalidCorrection("This correction needs a single SELECT at the top, not a set operation.")
    return select


def _grouped(node: exp.Expr) -> exp.Expr:
    return exp.Paren(this=node) if isinstance(node, exp.Connector) and not isinstance(node, exp.And) else node
