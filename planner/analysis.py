"""Everything the preview and the guardrails read, gathered once from the checked tree."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from planner.catalog import Catalog
from planner.joins import JoinInfo, extract_joins, match_accepted
from planner.resolve import Resolution
from planner.scopes import Scope, build_scopes, conjuncts, outermost_select


@dataclass(slots=True)
class Analysis:
    tree: exp.Expr
    resolution: Resolution
    scopes: list[Scope]
    joins: list[JoinInfo]
    filters: list[tuple[Scope, exp.Expr]]  # WHERE conjuncts that are not join links, then HAVING
    aggregates: list[tuple[Scope | None, exp.AggFunc]]
    group_by: list[exp.Expr]  # of the outermost SELECT


def analyse(tree: exp.Expr, resolution: Resolution, catalog: Catalog) -> Analysis:
    scopes = build_scopes(tree, resolution)
    accepted = catalog.accepted_joins()
    joins: list[JoinInfo] = []
    filters: list[tuple[Scope, exp.Expr]] = []
    by_select: dict[int, Scope] = {id(s.select): s for s in scopes}
    for scope in scopes:
        infos, links = extract_joins(scope)
        for info in infos:
            match_accepted(info, accepted)
        joins.extend(infos)
        filters.extend((scope, c) for c in scope.where if id(c) not in links)
        filters.extend((scope, c) for c in scope.having)
    aggregates = [(_enclosing(agg, by_select), agg) for agg in tree.find_all(exp.AggFunc)]
    outer = outermost_select(tree)
    group = outer.args.get("group") if outer is not None else None
    return Analysis(tree=tree, resolution=resolution, scopes=scopes, joins=joins, filters=filters,
                    aggregates=aggregates, group_by=list(group.expressions) if group is not None else [])


def where_conjuncts(tree: exp.Expr) -> list[exp.Expr]:
    """All WHERE then HAVING conjuncts per SELECT, in the order :func:`analyse` lists filters."""
    found: list[exp.Expr] = []
    for select in tree.find_all(exp.Select):
        for key in ("where", "having"):
            clause = select.args.get(key)
            found.extend(conjuncts(clause.this if clause is not None else None))
    return found


def _enclosing(node: exp.Expr, by_select: dict[int, Scope]) -> Scope | None:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Select):
            return by_select.get(id(parent))
        parent = parent.parent
    return None


def is_windowed(agg: exp.Expr) -> bool:
    return isinstance(agg.parent, exp.Window)
