"""FAN_TRAP: SUM/AVG/COUNT over the "one" side of a one-to-many join counts each value many times.

One-to-many comes from the accepted join's cardinality when there is one, else from primary
keys: the side whose join columns cover its primary key is the "one" side.
"""

from __future__ import annotations

from sqlglot import exp

from planner.guardrails.base import Facts, describe_join
from planner.joins import unique_side
from planner.model import Guardrail
from planner.positions import node_span
from planner.sqlgen import snippet

TYPE = "FAN_TRAP"
_DOUBLE_COUNTING = (exp.Sum, exp.Avg, exp.Count)


def fan_trap(facts: Facts) -> list[Guardrail]:
    found: list[Guardrail] = []
    for scope, agg in facts.analysis.aggregates:
        if scope is None or not isinstance(agg, _DOUBLE_COUNTING) or isinstance(agg.this, exp.Distinct):
            continue
        if isinstance(agg.parent, exp.Window):
            continue
        columns = value_columns(agg.this) if agg.this is not None else []
        owners = {id(o): o for c in columns if (o := scope.owner(c)) is not None}
        for info in facts.analysis.joins:
            if info.scope is not scope:
                continue
            one = unique_side(info)
            many = info.right if one is info.left else info.left
            if one is None or id(one) not in owners or id(many) in owners:
                continue
            column = next(c for c in columns if scope.owner(c) is one)
            found.append(Guardrail(
                TYPE, f"{snippet(agg, facts.dialect)} aggregates {one.label}.{column.name}, but {one.label} is on "
                      f"the one side of the one-to-many join {describe_join(info, facts.dialect)}: each "
                      f"{one.label} value is counted once per matching {many.label} row. Aggregate "
                      f"{one.label} in a subquery before joining.", False, node_span(agg)))
            break
    return found


def value_columns(node: exp.Expr) -> list[exp.Column]:
    """Columns whose values an aggregate adds up: CASE conditions only choose, they are not summed.

    ``SUM(CASE WHEN o.priority = 'HIGH' THEN 1 ELSE 0 END)`` counts joined rows, not order values.
    """
    if isinstance(node, exp.Column):
        return [node]
    if isinstance(node, exp.Query):
        return []
    if isinstance(node, exp.Case):
        branches = [i.args.get("true") for i in node.args.get("ifs") or ()] + [node.args.get("default")]
        return [c for b in branches if b is not None for c in value_columns(b)]
    if isinstance(node, exp.If):
        return [c for b in (node.args.get("true"), node.args.get("false")) if b is not None
                for c in value_columns(b)]
    return [c for child in node.iter_expressions() for c in value_columns(child)]
