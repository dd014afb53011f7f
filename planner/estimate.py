"""Rough estimates from catalog row counts; the gateway may replace them with the warehouse's EXPLAIN.

The model is deliberately simple and says so in the assumptions: an equality join keeps the
larger side (times an accepted join's measured fan-out when it is many-to-many), a join without a
condition multiplies, a join linked only by inequalities (``a.id <> b.id``, ``a.t < b.t``) is a
filtered cartesian product (each predicate keeps the share in ``THETA_SELECTIVITY``), each filter
keeps a quarter of the rows, grouping keeps a tenth — or, where the catalog knows how many distinct
values each grouped column has, at most their product (one more per nullable column, for its NULL
group), never more than the rows grouped — each HAVING condition keeps a quarter of the groups, and
an aggregate without GROUP BY returns one row. Each GROUP BY's figure is kept with its reasons
(:class:`GroupCount`) for the preview to say where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from planner.analysis import Analysis
from planner.catalog import EXACT_STATS
from planner.joins import MANY_TO_MANY, JoinInfo
from planner.rules.row_cap import limit_value
from planner.scopes import Scope, Source, outermost_select

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
class KeyCount:
    """One GROUP BY key the catalog has a distinct count for."""

    column: str
    distinct: int  # non-NULL values
    nullable: bool  # one more group, for NULL
    stats: str  # how it was measured: planner.catalog.EXACT_STATS or SAMPLED_STATS


@dataclass(frozen=True, slots=True)
class GroupCount:
    """Where one GROUP BY's estimate came from."""

    keys: tuple[exp.Expr, ...]
    input_rows: float  # the rows grouped
    groups: float | None  # the product of the keys' distinct counts; None without statistics
    counts: tuple[KeyCount, ...]  # each key's statistic, when ``groups`` is known
    missing: exp.Expr | None  # the first key without a statistic (a column, or an expression)
    having: int  # HAVING conditions, each keeping FILTER_SELECTIVITY of the groups

    @property
    def rows(self) -> float:
        grouped = min(self.input_rows, self.groups) if self.groups is not None else self.input_rows * GROUP_REDUCTION
        return grouped * FILTER_SELECTIVITY ** self.having


@dataclass(frozen=True, slots=True)
class Estimate:
    rows: int | None  # before the row cap
    cost_ms: float | None
    fan_outs: dict[int, float]  # id(JoinInfo) -> estimated fan-out
    groups: tuple[GroupCount, ...] = ()  # every GROUP BY's figure, outermost first
    # The most rows the outermost SELECT can return by its GROUP BY's distinct counts: a bound the
    # warehouse's own estimate is capped by (it may have no statistics of its own).
    ceiling: int | None = None


def estimate(analysis: Analysis) -> Estimate:
    by_select = {id(s.select): s for s in analysis.scopes}
    joins_by_scope: dict[int, list[JoinInfo]] = {}
    for info in analysis.joins:
        joins_by_scope.setdefault(id(info.scope.select), []).append(info)
    fan_outs: dict[int, float] = {}
    memo: dict[int, float] = {}
    groups: dict[int, GroupCount] = {}

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
            counted = groups[key] = _group_count(scope, group, rows)
            rows = counted.rows
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
    outer = outermost_select(analysis.tree)
    top = groups.get(id(outer)) if outer is not None else None
    ordered = ([top] if top is not None else []) + [g for g in groups.values() if g is not top]
    return Estimate(rows=int(rows), cost_ms=round(scanned * MS_PER_SCANNED_ROW + 0.05, 1), fan_outs=fan_outs,
                    groups=tuple(ordered),
                    ceiling=int(top.groups) if top is not None and top.groups is not None else None)


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


def _group_count(scope: Scope, group: exp.Group, input_rows: float) -> GroupCount:
    """The most groups the catalog's statistics allow: the product of each key's distinct values."""
    keys = tuple(group.expressions)
    if not keys or any(isinstance(k, exp.Rollup | exp.Cube | exp.GroupingSets) for k in keys) \
            or any(group.args.get(k) for k in ("rollup", "cube", "grouping_sets")):
        # Grouping sets add subtotal rows: no product of distinct counts bounds them.
        return GroupCount(keys, input_rows, None, (), group, len(scope.having))
    product = 1.0
    counts: list[KeyCount] = []
    for key in keys:
        found = _key_count(scope, key)
        if found is None:
            return GroupCount(keys, input_rows, None, (), key, len(scope.having))
        counts.append(found)
        product *= max(found.distinct, 1) + (1 if found.nullable else 0)
    return GroupCount(keys, input_rows, product, tuple(counts), None, len(scope.having))


def _key_count(scope: Scope, key: exp.Expr) -> KeyCount | None:
    column = _key_column(scope, key)
    source = scope.owner(column) if column is not None else None
    if column is None or source is None or source.version is None:
        return None
    name = column.name.lower()
    found = next((c for c in source.version.columns if c.name.lower() == name), None)
    if found is None or found.distinct_count is None:
        return None
    return KeyCount(found.name, found.distinct_count, found.nullable, source.version.stats or EXACT_STATS)


def _key_column(scope: Scope, key: exp.Expr) -> exp.Column | None:
    """The column a GROUP BY key groups by: itself, or what its ordinal (``GROUP BY 1``) or a
    select-list alias stands for; None for an expression (it has no statistic)."""
    items = scope.select.expressions
    if isinstance(key, exp.Literal) and key.is_int and 1 <= int(key.name) <= len(items):
        target = items[int(key.name) - 1].unalias()
        return target if isinstance(target, exp.Column) else None
    if not isinstance(key, exp.Column):
        return None
    owner = scope.owner(key)
    if key.table or (owner is not None and owner.columns is not None and key.name.lower() in owner.columns):
        return key
    aliased = next((i.this for i in items if isinstance(i, exp.Alias) and i.alias.lower() == key.name.lower()), None)
    return aliased if isinstance(aliased, exp.Column) else key
