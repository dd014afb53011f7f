"""One pass over each SELECT: its sources, which source each column belongs to, its conjuncts.

This is a small, cheap stand-in for sqlglot's ``qualify``: the planner only needs to know which
FROM item a column comes from, and it learns that from catalog columns and projections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from planner.catalog import TableVersion
from planner.resolve import Resolution


@dataclass(slots=True)
class Source:
    alias: str  # lower case, as columns qualify it
    label: str  # what a person reads: the logical table name, or the alias of a derived table
    node: exp.Expr  # the FROM/JOIN item
    version: TableVersion | None  # for catalog tables
    columns: frozenset[str] | None  # lower case; None when unknown
    primary_key: frozenset[str] = frozenset()
    ordered: tuple[str, ...] | None = None  # the same names in order (what `*` expands to)
    unnamed: bool = False  # a derived table with expressions it did not name (the warehouse names them)


@dataclass(slots=True)
class Scope:
    select: exp.Select
    sources: list[Source]
    where: list[exp.Expr] = field(default_factory=list)
    having: list[exp.Expr] = field(default_factory=list)
    _touched: dict[int, list[Source]] = field(default_factory=dict)  # sources_of, memoised per node

    def source(self, alias: str) -> Source | None:
        return next((s for s in self.sources if s.alias == alias), None)

    def owner(self, column: exp.Column) -> Source | None:
        """The source a column belongs to in this scope; None for outer or unknown columns."""
        qualifier = column.table.lower()
        if qualifier:
            return self.source(qualifier)
        name = column.name.lower()
        owners = [s for s in self.sources if s.columns is not None and name in s.columns]
        if len(owners) == 1:
            return owners[0]
        if not owners and len(self.sources) == 1 and self.sources[0].columns is None:
            return self.sources[0]
        return None

    def sources_of(self, node: exp.Expr) -> list[Source]:
        known = self._touched.get(id(node))
        if known is not None:
            return known
        found: list[Source] = []
        for column in local_columns(node):
            owner = self.owner(column)
            if owner is not None and owner not in found:
                found.append(owner)
        self._touched[id(node)] = found
        return found


def conjuncts(node: exp.Expr | None) -> list[exp.Expr]:
    if node is None:
        return []
    return [*node.flatten()] if isinstance(node, exp.And) else [node]


def local_columns(node: exp.Expr) -> list[exp.Column]:
    """Columns of ``node`` not inside a nested query (those belong to the nested scope)."""
    found: list[exp.Column] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, exp.Column):
            found.append(current)
            continue
        for child in current.iter_expressions():
            if not isinstance(child, exp.Query):
                stack.append(child)
    return found


def build_scopes(tree: exp.Expr, resolution: Resolution) -> list[Scope]:
    """Every SELECT in the tree, outermost first (breadth-first order)."""
    return [_scope(select, resolution) for select in tree.find_all(exp.Select)]


def outermost_select(tree: exp.Expr) -> exp.Select | None:
    while isinstance(tree, exp.Subquery):
        tree = tree.this
    return tree if isinstance(tree, exp.Select) else None


def _scope(select: exp.Select, resolution: Resolution) -> Scope:
    items: list[exp.Expr] = []
    from_ = select.args.get("from_")
    if from_ is not None:
        items.append(from_.this)
    items.extend(join.this for join in select.args.get("joins") or ())
    sources = [_source(item, resolution) for item in items]
    where = select.args.get("where")
    having = select.args.get("having")
    return Scope(select=select, sources=sources,
                 where=conjuncts(where.this if where is not None else None),
                 having=conjuncts(having.this if having is not None else None))


def _source(item: exp.Expr, resolution: Resolution) -> Source:
    alias = item.alias_or_name.lower()
    if isinstance(item, exp.Table):
        bound = resolution.by_node.get(id(item))
        if bound is not None:
            v = bound.version
            ordered = tuple(c.name.lower() for c in v.columns)
            renamed = _alias_columns(item)
            if renamed and ordered:  # `orders AS o(id, s)` renames the first columns, in order
                ordered = renamed + ordered[len(renamed):]
            return Source(alias=alias, label=v.table, node=item, version=v, columns=frozenset(ordered) or None,
                          primary_key=frozenset(c.name.lower() for c in v.columns if c.primary_key
                                                and not renamed),
                          ordered=ordered or None)
        cte = resolution.cte_refs.get(id(item))
        if cte is not None:
            return _derived(alias, alias, item, cte, resolution)
    if isinstance(item, exp.Subquery) or (isinstance(item, exp.Lateral) and isinstance(item.this, exp.Subquery)):
        return _derived(alias, alias, item, item, resolution)
    return Source(alias=alias, label=alias or item.key, node=item, version=None, columns=None)


def _alias_columns(item: exp.Expr) -> tuple[str, ...]:
    table_alias = item.args.get("alias")
    return tuple(c.name.lower() for c in table_alias.columns) if isinstance(table_alias, exp.TableAlias) else ()


def _derived(alias: str, label: str, item: exp.Expr, definition: exp.Expr, resolution: Resolution) -> Source:
    ordered = _projected(definition, resolution)
    unnamed = ordered is not None and "" in ordered
    return Source(alias=alias, label=label, node=item, version=None,
                  columns=frozenset(ordered) if ordered is not None else None,
                  ordered=ordered, unnamed=unnamed)


def _projected(node: exp.Expr, resolution: Resolution) -> tuple[str, ...] | None:
    """Names a derived table or CTE exposes, in order: its alias column list, else its projections
    (a ``*`` expanded from the sources it reads, when their columns are known)."""
    renamed = _alias_columns(node)
    own = _selected(node.this if isinstance(node, exp.CTE | exp.Subquery | exp.Lateral) else node, resolution)
    if not renamed:
        return own
    # The list renames the first columns; the others keep their names (unknown when `*` is unknown).
    return renamed + own[len(renamed):] if own is not None else renamed


def _selected(query: exp.Expr, resolution: Resolution) -> tuple[str, ...] | None:
    while isinstance(query, exp.SetOperation | exp.Subquery):
        query = query.this  # a set operation's columns are named by its first operand
    if not isinstance(query, exp.Select):
        return None
    names: list[str] = []
    scope: Scope | None = None
    for s in query.selects:
        star = s if isinstance(s, exp.Star) else s.this if isinstance(s, exp.Column) else None
        if not isinstance(star, exp.Star):
            # Only aliases and plain columns have a name every warehouse agrees on.
            names.append(s.alias_or_name.lower() if isinstance(s, exp.Alias | exp.Column) else "")
            continue
        if star.args.get("except_") or star.args.get("replace") or star.args.get("rename"):
            return None
        scope = scope or _scope(query, resolution)
        qualifier = s.table.lower() if isinstance(s, exp.Column) else ""
        for source in scope.sources:
            if qualifier and source.alias != qualifier:
                continue
            if source.ordered is None:
                return None
            names.extend(source.ordered)
    return tuple(names)
