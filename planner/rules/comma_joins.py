"""Write an unconditioned CROSS JOIN as a comma join: same rows, but SQLite may reorder it.

SQLite's planner never reorders around the words ``CROSS JOIN`` (a documented hint), and
sqlglot's SQLite, Spark and BigQuery readers turn every comma into one — which would pin TPC-H
style comma joins to the written order and turn indexed lookups into nested full scans.

Elsewhere a comma binds more loosely than JOIN (``a, b JOIN c ON a.x = c.x`` cannot see ``a``),
so a CROSS JOIN becomes a comma only when no join after it has a condition; in SQLite both bind
left to right alike, and every one may.

>>> # FROM a CROSS JOIN b WHERE a.x = b.x  ->  FROM a, b WHERE a.x = b.x
>>> # FROM a CROSS JOIN b JOIN c ON a.x = c.x  ->  unchanged (except on SQLite)
"""

from __future__ import annotations

from sqlglot import exp

from planner.rules.context import RewriteContext


def comma_joins(tree: exp.Expr, ctx: RewriteContext) -> exp.Expr:
    left_to_right = ctx.warehouse == "sqlite"
    for select in tree.find_all(exp.Select):
        joins: list[exp.Join] = select.args.get("joins") or []
        for index, join in enumerate(joins):
            if _unconditioned_cross(join) and (
                    left_to_right or not any(_conditioned(later) for later in joins[index + 1:])):
                join.set("kind", None)
    return tree


def _unconditioned_cross(join: exp.Join) -> bool:
    return (join.kind or "").upper() == "CROSS" and not join.side and not _conditioned(join)


def _conditioned(join: exp.Join) -> bool:
    return bool(join.args.get("on") or join.args.get("using") or (join.method or "").upper() == "NATURAL")
