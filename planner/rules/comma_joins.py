"""Write an unconditioned CROSS JOIN as a comma join: same rows, but SQLite may reorder it.

SQLite's planner never reorders around the words ``CROSS JOIN`` (a documented hint), and
sqlglot's SQLite reader turns every comma into one — which would pin TPC-H style comma joins
to the written order and turn indexed lookups into nested full scans.

>>> # FROM a CROSS JOIN b WHERE a.x = b.x  ->  FROM a, b WHERE a.x = b.x
"""

from __future__ import annotations

from sqlglot import exp

from planner.rules.context import RewriteContext


def comma_joins(tree: exp.Expr, ctx: RewriteContext) -> exp.Expr:
    for join in tree.find_all(exp.Join):
        if (join.kind or "").upper() == "CROSS" and not join.side and not join.args.get("on") \
                and not join.args.get("using"):
            join.set("kind", None)
    return tree
