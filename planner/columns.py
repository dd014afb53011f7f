"""Every column reference checked against the columns of the version its table resolved to.

    check_columns(scopes) -> [ColumnNotFound | AmbiguousColumn, …]   in the order they appear

A column is looked up where SQL looks it up: the FROM items of its own SELECT, then the select
list's aliases (ORDER BY, GROUP BY and HAVING may name them), then the enclosing SELECTs
(correlated subqueries). A derived table in FROM does not see the SELECT it is part of, a
``LATERAL`` one sees the FROM items to its left (not itself, not those after it), and a CTE sees
nothing around it. Where a source's columns are unknown (a table registered without
columns, a derived table over such a table), an unqualified name is given the benefit of the
doubt: a preview refuses only what it knows the warehouse will refuse.
"""

from __future__ import annotations

import difflib

from sqlglot import exp

from planner.errors import AmbiguousColumn, ColumnNotFound, PlannerError
from planner.positions import Fix, name_span, node_span
from planner.scopes import Scope, Source, local_columns


def check_columns(scopes: list[Scope]) -> list[PlannerError]:
    by_select = {id(s.select): s for s in scopes}
    problems: list[PlannerError] = []
    for scope in scopes:
        chain = _chain(scope, by_select)
        aliases = {p.alias.lower() for p in scope.select.expressions if isinstance(p, exp.Alias)}
        outputs = {p.alias_or_name.lower() for p in scope.select.expressions if isinstance(p, exp.Alias | exp.Column)}
        order = scope.select.args.get("order")
        for column in local_columns(scope.select):
            if order is not None and not column.table and column.name.lower() in outputs \
                    and column.find_ancestor(exp.Order) is order:
                continue  # ORDER BY names an output column first (`SELECT c.name … ORDER BY name`)
            problem = _check(column, chain, aliases)
            if problem is not None:
                problems.append(problem)
    problems.sort(key=lambda p: p.span or (0, 0))
    return problems


def _chain(scope: Scope, by_select: dict[int, Scope]) -> list[Scope]:
    """This scope, then the scopes whose FROM items a column of it may name (innermost first)."""
    chain = [scope]
    child: exp.Expr = scope.select
    parent = child.parent
    skip_next_select = False
    lateral: exp.Lateral | None = None
    while parent is not None:
        if isinstance(parent, exp.CTE):
            break  # a CTE is defined apart from the query around it
        if isinstance(child, exp.Subquery) and isinstance(parent, exp.From | exp.Join):
            skip_next_select = True  # a derived table does not see its own SELECT's FROM items
        if isinstance(child, exp.Subquery) and isinstance(parent, exp.Lateral):
            lateral = parent  # a LATERAL one sees those to its left, and only those
        if isinstance(parent, exp.Select):
            outer = by_select.get(id(parent))
            if outer is not None and lateral is not None:
                chain.append(_left_of(outer, lateral))
            elif outer is not None and not skip_next_select:
                chain.append(outer)
            skip_next_select, lateral = False, None
        child, parent = parent, parent.parent
    return chain


def _left_of(scope: Scope, lateral: exp.Lateral) -> Scope:
    """The FROM items of ``scope`` before ``lateral``: what a lateral derived table may name."""
    index = next((i for i, s in enumerate(scope.sources) if s.node is lateral), len(scope.sources))
    return Scope(select=scope.select, sources=scope.sources[:index])


def _merged_names(scope: Scope) -> frozenset[str]:
    """Names joined with USING or NATURAL: one column however many sources have it."""
    names: set[str] = set()
    for join in scope.select.args.get("joins") or ():
        names.update(i.name.lower() for i in join.args.get("using") or ())
        if join.args.get("method") == "NATURAL":
            seen: dict[str, int] = {}
            for source in scope.sources:
                for name in source.columns or ():
                    seen[name] = seen.get(name, 0) + 1
            names.update(n for n, count in seen.items() if count > 1)
    return frozenset(names)


def _check(column: exp.Column, chain: list[Scope], aliases: set[str]) -> PlannerError | None:
    if column.args.get("db") or column.args.get("catalog"):
        return None  # a.b.c: a struct field or a schema-qualified name; resolution refuses the latter
    qualifier = column.table.lower()
    is_star = isinstance(column.this, exp.Star)
    name = "" if is_star else column.name.lower()
    if qualifier:
        for scope in chain:
            source = scope.source(qualifier)
            if source is None:
                continue
            if is_star or source.columns is None or source.unnamed or name in source.columns:
                return None
            return _not_found(column, name, [source], f"{source.label}" + (
                f" ({source.alias})" if source.alias != source.label else ""))
        return _unknown_qualifier(column, qualifier, chain)
    if is_star:
        return None
    for depth, scope in enumerate(chain):
        owners = [s for s in scope.sources if s.columns is not None and name in s.columns]
        if len(owners) > 1 and name not in _merged_names(scope):
            return _ambiguous(column, name, owners)
        if owners or (depth == 0 and name in aliases):
            return None
        if any(s.columns is None or s.unnamed for s in scope.sources):
            return None  # this scope has columns nobody listed: it may be one of them
    sources = [s for scope in chain for s in scope.sources]
    where = ", ".join(dict.fromkeys(s.label for s in chain[0].sources)) or "the query"
    return _not_found(column, name, sources, where, extra=sorted(aliases))


def _not_found(column: exp.Column, name: str, sources: list[Source], where: str,
               extra: list[str] | None = None) -> ColumnNotFound:
    candidates = list(dict.fromkeys([*(c for s in sources for c in s.ordered or sorted(s.columns or ())),
                                     *(extra or [])]))
    near = difflib.get_close_matches(name, [c for c in candidates if c], n=3, cutoff=0.6)
    span = name_span(column)
    hint = f" Did you mean {' or '.join(near)}?" if near else ""
    return ColumnNotFound(f"No column named '{column.name}' in {where}.{hint}", span=span,
                          fixes=tuple(Fix(f"Did you mean {n}?", n, span) for n in near) if span else ())


def _unknown_qualifier(column: exp.Column, qualifier: str, chain: list[Scope]) -> ColumnNotFound:
    sources = [s for scope in chain for s in scope.sources if s.alias]
    names = list(dict.fromkeys(s.alias for s in sources))
    # The tables that have the column are the likeliest meaning; else the nearest spellings.
    having = [s.alias for s in sources if s.columns is not None and column.name.lower() in s.columns]
    near = list(dict.fromkeys(having))[:3] or difflib.get_close_matches(qualifier, names, n=3, cutoff=0.5)
    table = column.args.get("table")
    span = node_span(table) if isinstance(table, exp.Expr) else None
    hint = f" Did you mean {' or '.join(near)}?" if near else ""
    return ColumnNotFound(f"'{column.table}.{column.name}' names no table or alias of this query "
                          f"(it reads {', '.join(names) or 'no table'}).{hint}", span=span,
                          fixes=tuple(Fix(f"Did you mean {n}?", n, span) for n in near) if span else ())


def _ambiguous(column: exp.Column, name: str, owners: list[Source]) -> AmbiguousColumn:
    span = node_span(column)
    labels = " and ".join(s.label if s.alias == s.label else f"{s.label} ({s.alias})" for s in owners)
    return AmbiguousColumn(
        f"Column '{column.name}' is ambiguous: {labels} both have it. Qualify it, "
        f"e.g. {owners[0].alias}.{column.name}.", span=span,
        fixes=tuple(Fix(f"Use {s.alias}.{column.name}", f"{s.alias}.{column.name}", span)
                    for s in owners) if span else ())
