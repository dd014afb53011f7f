"""Cap the rows a query returns at ``max_rows + 1``; the extra row tells the executor it truncated.

A literal LIMIT becomes the smaller of itself and the cap; anything else (an expression, FETCH,
OFFSET-only oddities) is wrapped: ``SELECT * FROM (<query>) AS _capped LIMIT cap``.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.transforms import eliminate_qualify

from planner.capabilities import profile
from planner.model import Plan
from planner.rules.context import RewriteContext


def row_cap(tree: exp.Expr, ctx: RewriteContext) -> exp.Expr:
    cap = ctx.options.max_rows + 1
    if not profile(ctx.warehouse).native_qualify and tree.find(exp.Qualify):
        # The generator would turn QUALIFY into a subquery around the capped SELECT, capping the
        # rows before the filter: rewrite it first, so the cap applies to what the filter keeps.
        tree = tree.transform(eliminate_qualify, copy=False)
    query = tree
    if not isinstance(query, exp.Select | exp.SetOperation) or query.args.get("fetch"):
        return _wrap(tree, cap)
    limit = query.args.get("limit")
    if limit is None:
        query.set("limit", exp.Limit(expression=exp.Literal.number(cap)))
        return query
    current = limit_value(query)
    if current is None:
        return _wrap(tree, cap)
    limit.set("expression", exp.Literal.number(min(current, cap)))
    return query


def limit_value(query: exp.Expr) -> int | None:
    """The literal LIMIT of a query, None when there is none or it is not a plain integer."""
    limit = query.args.get("limit")
    value = limit.args.get("expression") if isinstance(limit, exp.Limit) else None
    if isinstance(value, exp.Literal) and not value.is_string and value.is_int:
        return int(value.this)
    return None


def _wrap(tree: exp.Expr, cap: int) -> exp.Expr:
    inner = tree.this if isinstance(tree, exp.Subquery) and not tree.alias else tree
    return (exp.select("*").from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("_capped"))))
            .limit(cap))



def with_row_cap(plan: Plan, max_rows: int) -> str:
    """The warehouse SQL of ``plan`` under another row cap: ``max_rows + 1`` instead of ``row_cap + 1``.

    A download runs exactly the previewed query, but under its own cap. The analyst's own LIMIT
    (read from the analyst's SQL) still bounds it; an outer LIMIT that is not the cap is the
    analyst's smaller one, and the SQL is returned as it is.
    """
    tree = sqlglot.parse_one(plan.sql, read=plan.warehouse_dialect)
    limit = tree.args.get("limit")
    if limit is None or limit_value(tree) != plan.row_cap + 1:
        return plan.sql
    analyst_limit = limit_value(sqlglot.parse_one(plan.analyst_sql, read=plan.dialect))
    cap = max_rows + 1 if analyst_limit is None else min(analyst_limit, max_rows + 1)
    limit.set("expression", exp.Literal.number(cap))
    return tree.sql(dialect=plan.warehouse_dialect)
