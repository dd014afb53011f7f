"""SQLite and BigQuery cannot name a derived table's columns (``AS t(a, b)``): move the names into its SELECT.

>>> # (SELECT c_custkey, COUNT(o_orderkey) FROM …) AS c_orders(c_custkey, c_count)
>>> # -> (SELECT c_custkey AS c_custkey, COUNT(o_orderkey) AS c_count FROM …) AS c_orders
"""

from __future__ import annotations

from sqlglot import exp

from planner.errors import NotAQuery
from planner.rules.context import RewriteContext

# The dialects whose generator cannot write a derived table's column list.
NO_DERIVED_COLUMN_LIST = frozenset({"sqlite", "bigquery"})


def derived_columns(tree: exp.Expr, ctx: RewriteContext) -> exp.Expr:
    return push_column_aliases(tree) if ctx.warehouse in NO_DERIVED_COLUMN_LIST else tree


def push_column_aliases(tree: exp.Expr) -> exp.Expr:
    """Move every derived table's column list into its SELECT list (meaning is unchanged)."""
    for sub in list(tree.find_all(exp.Subquery)):
        alias = sub.args.get("alias")
        if not isinstance(alias, exp.TableAlias) or not alias.columns:
            continue
        names = [c.name for c in alias.columns]
        for select in _branches(sub.this):
            projections = select.expressions
            if len(projections) != len(names) or any(isinstance(p, exp.Star) for p in projections):
                raise NotAQuery("A derived table's column list must match its SELECT list one to one "
                                "(no *) to run on this warehouse; name the columns inside the subquery instead.")
            select.set("expressions", [
                exp.alias_(p.unalias() if isinstance(p, exp.Alias) else p, name, quoted=False)
                for p, name in zip(projections, names, strict=True)])
        alias.set("columns", None)
    return tree


def _branches(query: exp.Expr) -> list[exp.Select]:
    if isinstance(query, exp.Select):
        return [query]
    if isinstance(query, exp.SetOperation):
        # Only the first branch names a set operation's columns.
        return _branches(query.this)
    if isinstance(query, exp.Subquery):
        return _branches(query.this)
    return []
