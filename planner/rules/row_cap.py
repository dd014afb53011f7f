"""Cap the rows a query returns at ``max_rows + 1``; the extra row tells the executor it truncated.

A literal LIMIT becomes the smaller of itself and the cap; anything else (an expression, FETCH,
OFFSET-only oddities) is wrapped: ``SELECT * FROM (<query>) AS _capped LIMIT cap``.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.transforms import eliminate_qualify

from planner.capabilities import profile
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
