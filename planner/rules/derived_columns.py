"""Column alias lists (``AS t(a, b)``) where the warehouse's grammar has none: the names move inside.

SQLite, MySQL/MariaDB and BigQuery cannot name a FROM item's columns after its alias (the
warehouse profile's ``column_alias_lists``). The same meaning is written with select aliases:

>>> # (SELECT c_custkey, COUNT(o_orderkey) FROM …) AS c_orders(c_custkey, c_count)
>>> # -> (SELECT c_custkey AS c_custkey, COUNT(o_orderkey) AS c_count FROM …) AS c_orders
>>> # (SELECT a AS x, b FROM t ORDER BY x) AS d(y, z)     an alias renamed is referenced inside:
>>> # -> (SELECT _n.x AS y, _n.b AS z FROM (SELECT a AS x, b FROM t ORDER BY x) AS _n) AS d
>>> # orders AS o(id, s)            (a catalog table; the list renames its first columns, in order)
>>> # -> (SELECT o_id AS id, status AS s, c_id, … FROM orders AS o) AS o

A shorter list renames the first columns and keeps the others' names, as PostgreSQL does.
"""

from __future__ import annotations

from sqlglot import exp

from planner.capabilities import PROFILES
from planner.errors import InvalidSQL, WarehouseUnsupported
from planner.positions import Extent, node_span
from planner.resolve import Resolution
from planner.rules.context import RewriteContext

# sqlglot's generators that cannot write a column list at all (they raise): the analyst's SQL, shown
# back in the preview, is written without lists in these dialects.
GENERATOR_WITHOUT_COLUMN_LISTS = frozenset({"sqlite", "bigquery"})


def lacks_column_lists(dialect: str) -> bool:
    """Whether SQL written for ``dialect`` must not carry a column alias list."""
    prof = PROFILES.get(dialect)
    return prof is not None and not prof.column_alias_lists


def derived_columns(tree: exp.Expr, ctx: RewriteContext) -> exp.Expr:
    return name_columns_inside(tree, ctx.resolution, ctx.warehouse) if lacks_column_lists(ctx.warehouse) else tree


def name_columns_inside(tree: exp.Expr, resolution: Resolution, dialect: str) -> exp.Expr:
    """Every column alias list of the tree written as select aliases (the meaning is unchanged)."""
    if not any(alias.columns for alias in tree.find_all(exp.TableAlias)):
        return tree  # the usual case, found in one walk instead of one per kind of FROM item
    push_column_aliases(tree, dialect)
    for table in list(tree.find_all(exp.Table)):
        alias = table.args.get("alias")
        if isinstance(alias, exp.TableAlias) and alias.columns:
            bound = resolution.by_node.get(id(table))
            columns = [c.name for c in bound.version.columns] if bound is not None else []
            _rename_table_columns(table, alias, columns, dialect)
    return tree


def push_column_aliases(tree: exp.Expr, dialect: str) -> exp.Expr:
    """Move every derived table's column list into its SELECT list (meaning is unchanged)."""
    for sub in list(tree.find_all(exp.Subquery)):
        alias = sub.args.get("alias")
        if not isinstance(alias, exp.TableAlias) or not alias.columns:
            continue
        names = [c.name for c in alias.columns]
        first = _first_select(sub.this)
        if first is None or any(isinstance(p, exp.Star) or isinstance(p.this if isinstance(p, exp.Column) else None,
                                                                       exp.Star) for p in first.expressions):
            raise _unsupported("a column alias list over SELECT *", alias, dialect,
                               "name the columns inside the subquery instead")
        if len(names) > len(first.expressions):
            raise _too_many(alias, f"its query has {len(first.expressions)}")
        if _renames_a_referenced_alias(sub.this, first, names):
            _wrap(sub, first, names)
        else:
            first.set("expressions", [
                exp.alias_(p.unalias() if isinstance(p, exp.Alias) else p, name, quoted=quoted)
                if name is not None else p
                for p, (name, quoted) in zip(first.expressions, _padded(alias, len(first.expressions)), strict=True)])
        alias.set("columns", None)
    return tree


def _padded(alias: exp.TableAlias, count: int) -> list[tuple[str | None, bool]]:
    named: list[tuple[str | None, bool]] = [(c.name, bool(c.args.get("quoted"))) for c in alias.columns]
    return named + [(None, False)] * (count - len(named))


def _renames_a_referenced_alias(query: exp.Expr, first: exp.Select, names: list[str]) -> bool:
    """An alias of the select list that is renamed and named elsewhere in the query (ORDER BY x)."""
    renamed = {p.alias.lower() for p, name in zip(first.expressions, names, strict=False)
               if isinstance(p, exp.Alias) and p.alias.lower() != name.lower()}
    if not renamed:
        return False
    projections = {id(n) for p in first.expressions for n in p.walk()}
    return any(not c.table and c.name.lower() in renamed and id(c) not in projections
               for c in query.find_all(exp.Column))


def _wrap(sub: exp.Subquery, first: exp.Select, names: list[str]) -> None:
    """``(q) AS t(a, b)`` -> ``(SELECT _n.x AS a, _n.y AS b FROM (q) AS _n) AS t``."""
    inner = [p.alias_or_name for p in first.expressions]
    if "" in inner or len({n.lower() for n in inner}) != len(inner):
        for i, p in enumerate(first.expressions):  # unnamed or repeated outputs get names of their own
            if not p.alias_or_name or [n.lower() for n in inner].count(p.alias_or_name.lower()) > 1:
                p.replace(exp.alias_(p.unalias() if isinstance(p, exp.Alias) else p.copy(), f"_c{i + 1}"))
        inner = [p.alias_or_name for p in first.expressions]
    outer = [exp.alias_(exp.column(name, "_n", quoted=True), names[i] if i < len(names) else name)
             for i, name in enumerate(inner)]
    # The query itself moves inside (not a copy), so what the resolution knows of its tables still applies.
    derived = exp.Subquery(this=sub.this, alias=exp.TableAlias(this=exp.to_identifier("_n")))
    sub.set("this", exp.Select(expressions=outer, from_=exp.From(this=derived)))


def _rename_table_columns(table: exp.Table, alias: exp.TableAlias, columns: list[str], dialect: str) -> None:
    names = [c.name for c in alias.columns]
    if not columns:
        raise _unsupported("a column alias list on a table whose columns the catalog does not list", alias,
                           dialect, "alias the columns in the select list instead")
    if len(names) > len(columns):
        raise _too_many(alias, f"the table has {len(columns)}")
    projections: list[exp.Expr] = []
    for i, col in enumerate(columns):
        column = exp.Column(this=exp.to_identifier(col, quoted=True), table=alias.this.copy())
        projections.append(exp.alias_(column, alias.columns[i].copy()) if i < len(names) else column)
    derived = exp.Subquery(alias=exp.TableAlias(this=alias.this.copy()))
    table.replace(derived)
    alias.set("columns", None)
    # The table node itself moves inside, so what the resolution knows of it still applies.
    derived.set("this", exp.Select(expressions=projections, from_=exp.From(this=table)))


def _too_many(alias: exp.TableAlias, has: str) -> InvalidSQL:
    error = InvalidSQL(f"The column list of '{alias.name}' names {len(alias.columns)} columns; {has}.",
                       span=node_span(alias))
    error.extent = Extent()  # the alias with its whole list, to the closing parenthesis
    return error


def _unsupported(what: str, alias: exp.TableAlias, dialect: str, advice: str) -> WarehouseUnsupported:
    prof = PROFILES[dialect]
    return WarehouseUnsupported(f"{what[0].upper()}{what[1:]} does not run on {prof.name}, the warehouse of this "
                                f"gateway; {advice}.", warehouse=dialect, feature="column alias list",
                                span=node_span(alias))


def _first_select(query: exp.Expr) -> exp.Select | None:
    # Only the first branch names a set operation's columns.
    while isinstance(query, exp.SetOperation | exp.Subquery):
        query = query.this
    return query if isinstance(query, exp.Select) else None
