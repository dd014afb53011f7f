"""Replace each logical table reference by its physical name, quoted, keeping the name as alias.

>>> # FROM orders  ->  FROM "spyne_shadow"."orders__v2" AS orders
A CTE whose name equals a physical table's name is renamed, so the physical reference emitted
here can never be captured by an analyst's CTE.
"""

from __future__ import annotations

from sqlglot import exp

from planner.copying import copy_node
from planner.errors import InvalidSQL
from planner.rules.context import RewriteContext


def physical_tables(tree: exp.Expr, ctx: RewriteContext) -> exp.Expr:
    # Defence in depth: every table node must be one resolution bound (or a CTE reference).
    # Should a generator pass ever have replaced a node, refuse rather than emit a logical name.
    # One walk finds the tables and the CTEs; renaming CTEs adds neither.
    tables: list[exp.Table] = []
    ctes: list[exp.CTE] = []
    for found in tree.find_all(exp.Table, exp.CTE):
        if isinstance(found, exp.Table):
            tables.append(found)
        elif isinstance(found, exp.CTE):
            ctes.append(found)
    known = ctx.resolution.by_node.keys() | ctx.resolution.cte_refs.keys()
    if any(id(t) not in known for t in tables):
        raise InvalidSQL("The query could not be planned safely; simplify it.", line=1, column=1)
    physical = {bound.version.physical_name.split(".")[-1].lower() for bound in ctx.resolution.tables}
    _rename_colliding_ctes(tables, ctes, ctx, physical)
    for bound in ctx.resolution.tables:
        node = bound.node
        if not node.alias:
            node.set("alias", exp.TableAlias(this=copy_node(node.this)))
        parts = bound.version.physical_name.split(".")
        node.set("this", exp.to_identifier(parts[-1], quoted=True))
        node.set("db", exp.to_identifier(parts[-2], quoted=True) if len(parts) > 1 else None)
        node.set("catalog", exp.to_identifier(parts[-3], quoted=True) if len(parts) > 2 else None)
    return tree


def _rename_colliding_ctes(tables: list[exp.Table], ctes: list[exp.CTE], ctx: RewriteContext,
                           physical: set[str]) -> None:
    taken = physical | {c.alias_or_name.lower() for c in ctes}
    renamed: dict[int, str] = {}
    for cte in ctes:
        name = cte.alias_or_name.lower()
        if name not in physical:
            continue
        new, n = f"{name}_cte", 1
        while new in taken:
            n += 1
            new = f"{name}_cte{n}"
        taken.add(new)
        renamed[id(cte)] = new
        cte.args["alias"].set("this", exp.to_identifier(new))
    if not renamed:
        return
    for table in tables:
        bound = ctx.resolution.cte_refs.get(id(table))
        if bound is not None and id(bound) in renamed:
            if not table.alias:
                table.set("alias", exp.TableAlias(this=copy_node(table.this)))
            table.set("this", exp.to_identifier(renamed[id(bound)]))
