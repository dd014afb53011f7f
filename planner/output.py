"""The columns a query returns, as the preview shows them: ``*`` expanded to the version's columns.

A preview is read version by version: ``SELECT * FROM orders`` means the columns of the version
``orders`` resolves to (or is pinned to), so that is what the preview lists, with the catalog's
types. A column's type is known when it is a catalog column (directly, or through CTEs and
derived tables); an expression's is left unknown here.
"""

from __future__ import annotations

from sqlglot import exp

from planner.analysis import Analysis
from planner.model import OutputColumn
from planner.scopes import Scope, Source, outermost_select
from planner.sqlgen import snippet


def output_columns(analysis: Analysis, dialect: str) -> tuple[OutputColumn, ...]:
    by_select = {id(s.select): s for s in analysis.scopes}
    ctes = analysis.resolution.cte_refs
    tree = analysis.tree
    query: exp.Expr = tree
    while isinstance(query, exp.SetOperation | exp.Subquery):
        query = query.this  # a set operation's columns are named by its first operand
    select = outermost_select(query)
    if select is None or id(select) not in by_select:
        return ()
    return tuple(_Columns(by_select, ctes, dialect).of_select(by_select[id(select)], frozenset()))


class _Columns:
    def __init__(self, by_select: dict[int, Scope], ctes: dict[int, exp.CTE], dialect: str) -> None:
        self.by_select, self.ctes, self.dialect = by_select, ctes, dialect

    def of_select(self, scope: Scope, seen: frozenset[int]) -> list[OutputColumn]:
        if id(scope.select) in seen:
            return []  # a recursive CTE reading itself
        seen = seen | {id(scope.select)}
        found: list[OutputColumn] = []
        for projection in scope.select.selects:
            inner = projection.this if isinstance(projection, exp.Column) else None
            if isinstance(projection, exp.Star) or isinstance(inner, exp.Star):
                qualifier = projection.table.lower() if isinstance(projection, exp.Column) else ""
                for source in scope.sources:
                    if not qualifier or source.alias == qualifier:
                        found.extend(self.of_source(source, seen))
                continue
            value = projection.this if isinstance(projection, exp.Alias) else projection
            name = projection.alias_or_name if isinstance(projection, exp.Alias | exp.Column) else \
                snippet(projection, self.dialect)
            type_ = None
            if isinstance(value, exp.Column):
                owner = scope.owner(value)
                if owner is not None:
                    typed = {c.name.lower(): c.type for c in self.of_source(owner, seen)}
                    type_ = typed.get(value.name.lower())
            found.append(OutputColumn(name, type_))
        return found

    def of_source(self, source: Source, seen: frozenset[int]) -> list[OutputColumn]:
        if source.version is not None:
            return [OutputColumn(c.name, c.type) for c in source.version.columns]
        definition: exp.Expr | None = self.ctes.get(id(source.node)) or source.node
        query = definition.this if isinstance(definition, exp.CTE | exp.Subquery) else None
        while isinstance(query, exp.SetOperation | exp.Subquery):
            query = query.this
        scope = self.by_select.get(id(query)) if isinstance(query, exp.Select) else None
        if scope is not None:
            columns = self.of_select(scope, seen)
            if source.ordered is not None and len(source.ordered) == len(columns):  # AS d(a, b) renames
                return [OutputColumn(n, c.type) for n, c in zip(source.ordered, columns, strict=True)]
            return columns
        return [OutputColumn(n, None) for n in source.ordered or ()]
