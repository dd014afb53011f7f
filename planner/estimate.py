"""Rough estimates from catalog row counts; the gateway may replace them with the warehouse's EXPLAIN.

The model is deliberately simple and says so in the assumptions: an equality join keeps the
larger side (times an accepted join's measured fan-out when it is many-to-many), a join without a
condition multiplies, a join linked only by inequalities (``a.id <> b.id``, ``a.t < b.t``) is a
filtered cartesian product (each predicate keeps the share in ``THETA_SELECTIVITY``), each filter
keeps a quarter of the rows, grouping keeps a tenth — or, where the catalog knows how many distinct
values each grouped column has, at most their product — and an aggregate without GROUP BY returns
one row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from planner.analysis import Analysis
from planner.joins import MANY_TO_MANY, JoinInfo
from planner.rules.row_cap import limit_value
from planner.scopes import Scope, Source

UNKNOWN_ROWS = 1_000  # a table without a row count
FILTER_SELECTIVITY = 0.25
GROUP_REDUCTION = 0.1
# The share of a cartesian product a non-equality join predicate keeps (the textbook figures).
THETA_SELECTIVITY: dict[type[exp.Expr], float] = {
    exp.NEQ: 1.0, exp.LT: 1 / 3, exp.LTE: 1 / 3, exp.GT: 1 / 3, exp.GTE: 1 / 3, exp.Between: 0.25,
    exp.Like: 0.25, exp.ILike: 0.25,
}
DEFAULT_THETA_SELECTIVITY = 1 / 3
MS_PER_SCANNED_ROW = 0.0001  # about ten million rows a second


@dataclass(frozen=True, slots=True)
class Estimate:
    rows: int | None  # before the row cap
    cost_ms: float | None
    fan_outs: dict[int, float]  # id(JoinInfo) -> estimated fan-out


def estimate(analysis: Analysis) -> Estimate:
    by_select = {id(s.select): s for s in analysis.scopes}
    joins_by_scope: dict[int, list[JoinInfo]] = {}
    for info in analysis.joins:
        joins_by_scope.setdefault(id(info.scope.select), []).append(info)
    fan_outs: dict[int, float] = {}
    memo: dict[int, float] = {}

    def query_rows(node: exp.Expr) -> float:
        if isinstance(node, exp.Subquery | exp.CTE):
            return query_rows(node.this)
        if isinstance(node, exp.SetOperation):
            return query_rows(node.this) + query_rows(node.expression)
        scope = by_select.get(id(node))
        return scope_rows(scope) if scope is not None else 1.0

    def source_rows(source: Source) -> float:
        if source.version is not None:
            return float(source.version.row_count if source.version.row_count is not None else UNKNOWN_ROWS)
        cte = analysis.resolution.cte_refs.get(id(source.node))
        if cte is not None:
            return query_rows(cte)
        if isinstance(source.node, exp.Subquery):
            return query_rows(source.node)
        return float(UNKNOWN_ROWS)

    def scope_rows(scope: Scope) -> float:
        key = id(scope.select)
        if key in memo:
            return memo[key]
        memo[key] = 1.0  # guards recursive CTEs
        sizes = {s.alias: source_rows(s) for s in scope.sources}
        rows = max(sizes.values(), default=1.0)
        for info in joins_by_scope.get(key, ()):
            fan = _fan_out(info, sizes)
            fan_outs[id(info)] = fan
            # A one-to-many join yields about the many side's rows, already counted in the base;
            # only a many-to-many or cartesian join multiplies.
            if not info.linked or info.cardinality == MANY_TO_MANY or _theta(info):
                rows *= fan
        filters = sum(1 for c in scope.where if len(scope.sources_of(c)) < 2)
        rows *= FILTER_SELECTIVITY ** filters
        group = scope.select.args.get("group")
        if group:
            groups = _distinct_groups(scope, group)
            rows = min(rows, groups) if groups is not None else rows * GROUP_REDUCTION
        elif any(isinstance(p, exp.AggFunc) or p.find(exp.AggFunc) for p in scope.select.expressions):
            rows = 1.0
        limit = limit_value(scope.select)
        if limit is not None:
            rows = min(rows, float(limit))
        memo[key] = max(rows, 1.0)
        return memo[key]

    rows = query_rows(analysis.tree)
    limit = limit_value(analysis.tree)
    if limit is not None:
        rows = min(rows, float(limit))
    scanned = sum(float(b.version.row_count or UNKNOWN_ROWS) for b in analysis.resolution.tables)
    return Estimate(rows=int(rows), cost_ms=round(scanned * MS_PER_SCANNED_ROW + 0.05, 1), fan_outs=fan_outs)


def _fan_out(info: JoinInfo, sizes: dict[str, float]) -> float:
    smaller = max(min(sizes.get(info.left.alias, 1.0), sizes.get(info.right.alias, 1.0)), 1.0)
    if not info.linked:
        # A cartesian product multiplies the larger side by the smaller one.
        return smaller
    if _theta(info):
        share = 1.0
        for conjunct in info.conjuncts:
            share *= THETA_SELECTIVITY.get(type(conjunct), DEFAULT_THETA_SELECTIVITY)
        return max(smaller * share, 1.0)
    if info.accepted is not None and info.accepted.fan_out is not None:
        return max(info.accepted.fan_out, 1.0)
    return 1.0


def _theta(info: JoinInfo) -> bool:
    """Linked only by predicates that are not equalities: no key narrows the product."""
    return info.linked and not info.pairs and not info.using and not any(_keyed(c) for c in info.conjuncts)


def _keyed(node: exp.Expr) -> bool:
    """An equality narrows the join: directly, in one part of an AND, or in every branch of an OR
    (TPC-H 19: ``(p_partkey = l_partkey AND …) OR (p_partkey = l_partkey AND …)``)."""
    if isinstance(node, exp.Paren):
        return _keyed(node.this)
    if isinstance(node, exp.EQ | exp.NullSafeEQ | exp.In):
        return True
    if isinstance(node, exp.And):
        return _keyed(node.this) or _keyed(node.expression)
    if isinstance(node, exp.Or):
        return _keyed(node.this) and _keyed(node.expression)
    return False


def _distinct_groups(scope: Scope, group: exp.Group) -> float | None:
    """The most groups the catalog's statistics allow: the product of each key's distinct values."""
    product = 1.0
    for key in group.expressions:
        if not isinstance(key, exp.Column):
            return None
        source = scope.owner(key)
        if source is None or source.version is None:
            return None
        name = key.name.lower()
        distinct = next((c.distinct_count for c in source.version.columns if c.name.lower() == name), None)
        if distinct is None:
            return None
        product *= max(distinct, 1) + (1 if _nullable(source, name) else 0)
    return product


def _nullable(source: Source, name: str) -> bool:
    assert source.version is not None
    return next((c.nullable for c in source.version.columns if c.name.lower() == name), True)
