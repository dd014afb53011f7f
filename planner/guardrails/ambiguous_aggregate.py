"""AMBIGUOUS_AGGREGATE: a column neither grouped nor aggregated next to aggregates or GROUP BY."""

from __future__ import annotations

from sqlglot import exp

from planner.guardrails.base import Facts
from planner.model import Guardrail
from planner.positions import node_span
from planner.scopes import Scope
from planner.sqlgen import snippet

TYPE = "AMBIGUOUS_AGGREGATE"


def ambiguous_aggregate(facts: Facts) -> list[Guardrail]:
    found: list[Guardrail] = []
    for scope in facts.analysis.scopes:
        found.extend(_check(scope, facts.dialect))
    return found


def _check(scope: Scope, dialect: str) -> list[Guardrail]:
    select = scope.select
    group = select.args.get("group")
    keys = list(group.expressions) if group is not None else []
    if not keys and not any(_has_aggregate(p) for p in select.expressions):
        return []
    projections = select.expressions
    grouped_sql = {snippet(k, dialect).lower() for k in keys}
    grouped_names = {k.name.lower() for k in keys if isinstance(k, exp.Column)}
    for k in keys:  # GROUP BY 2 means the second projection
        if isinstance(k, exp.Literal) and k.is_int and 0 < int(k.this) <= len(projections):
            grouped_sql.add(snippet(projections[int(k.this) - 1].unalias(), dialect).lower())
    found = []
    for projection in projections:
        bare = projection.unalias()
        if snippet(bare, dialect).lower() in grouped_sql or projection.alias.lower() in grouped_names:
            continue
        loose = [c for c in _loose_columns(bare) if c.name.lower() not in grouped_names
                 and snippet(c, dialect).lower() not in grouped_sql and scope.owner(c) is not None]
        if loose:
            column = snippet(loose[0], dialect)
            found.append(Guardrail(TYPE, f"{column} is neither in GROUP BY nor inside an aggregate; the warehouse "
                                         f"would pick an arbitrary value or fail. Add it to GROUP BY or wrap it "
                                         f"in an aggregate such as MIN({column}).", False,
                                   node_span(loose[0])))
    return found


def _has_aggregate(node: exp.Expr) -> bool:
    return any(not isinstance(a.parent, exp.Window) for a in _local(node, exp.AggFunc))


def _loose_columns(node: exp.Expr) -> list[exp.Column]:
    """Columns outside aggregates, windows and nested queries."""
    found: list[exp.Column] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, exp.Column):
            found.append(current)
        elif not isinstance(current, exp.AggFunc | exp.Window | exp.Query):
            stack.extend(current.iter_expressions())
    return found


def _local(node: exp.Expr, kind: type[exp.Expr]) -> list[exp.Expr]:
    found: list[exp.Expr] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, kind):
            found.append(current)
        if not isinstance(current, exp.Query):
            stack.extend(current.iter_expressions())
    return found
