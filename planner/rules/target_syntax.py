"""SQL the warehouse accepts, always: three shapes some warehouses refuse, rewritten to the same meaning.

- A derived table without an alias (PostgreSQL before 16 requires one): named ``_d1``, ``_d2``, ….
- A parenthesised operand of UNION/INTERSECT/EXCEPT (SQLite's grammar has none): unwrapped, or,
  when it carries its own ORDER BY/LIMIT, selected from as a derived table.
- ``ORDER BY name`` where ``name`` is the implicit name of a qualified, unaliased output column
  (``SELECT c.name … ORDER BY name``): SQLite looks only at explicit aliases and then finds the
  name ambiguous among the tables; the column is given its own name as an alias.

>>> # SELECT 1 UNION ALL (SELECT 2)                 -> SELECT 1 UNION ALL SELECT 2          (SQLite)
>>> # … UNION ALL (SELECT x … ORDER BY x LIMIT 5)    -> … UNION ALL SELECT * FROM (…) AS _s1  (SQLite)
>>> # SELECT * FROM (SELECT …)                        -> SELECT * FROM (SELECT …) AS _d1
>>> # SELECT c.name FROM … ORDER BY name              -> SELECT c.name AS name FROM … ORDER BY name
"""

from __future__ import annotations

from sqlglot import exp

from planner.errors import WarehouseUnsupported
from planner.positions import Extent, tree_span
from planner.rules.context import RewriteContext

_MODIFIERS = ("order", "limit", "offset", "fetch")
# Warehouses whose grammar has no parenthesised compound operands.
_BARE_SET_OPERANDS = frozenset({"sqlite"})


def target_syntax(tree: exp.Expr, ctx: RewriteContext) -> exp.Expr:
    # One walk finds what all three passes look at. None of them adds a node a later one needs:
    # aliasing adds only names, and the derived tables _bare_set_operands builds are aliased, its
    # SELECT * has no ORDER BY; the SELECTs it unwraps stay in the tree.
    aliases: list[exp.TableAlias] = []
    subqueries: list[exp.Subquery] = []
    set_operations: list[exp.SetOperation] = []
    selects: list[exp.Select] = []
    for node in tree.find_all(exp.TableAlias, exp.Subquery, exp.SetOperation, exp.Select):
        if isinstance(node, exp.TableAlias):
            aliases.append(node)
        elif isinstance(node, exp.Subquery):
            subqueries.append(node)
        elif isinstance(node, exp.SetOperation):
            set_operations.append(node)
        elif isinstance(node, exp.Select):
            selects.append(node)
    _alias_derived_tables(aliases, subqueries)
    if ctx.warehouse in _BARE_SET_OPERANDS:
        tree = _bare_set_operands(tree, set_operations)
    _alias_ordered_columns(selects)
    return tree


def _alias_derived_tables(aliases: list[exp.TableAlias], subqueries: list[exp.Subquery]) -> None:
    taken = {a.name.lower() for a in aliases}
    n = 0
    for sub in subqueries:
        if sub.args.get("alias") is not None or not isinstance(sub.parent, exp.From | exp.Join):
            continue
        n += 1
        while f"_d{n}" in taken:
            n += 1
        sub.set("alias", exp.TableAlias(this=exp.to_identifier(f"_d{n}")))


def _bare_set_operands(tree: exp.Expr, set_operations: list[exp.SetOperation]) -> exp.Expr:
    n = 0
    for op in set_operations:
        for key in ("this", "expression"):
            operand = op.args.get(key)
            if not isinstance(operand, exp.Subquery) or operand.args.get("alias") is not None:
                continue
            if any(operand.args.get(k) for k in _MODIFIERS):
                raise WarehouseUnsupported("SQLite cannot sort or limit a parenthesised UNION operand from outside "
                                           "its parentheses; move the ORDER BY/LIMIT inside them.",
                                           warehouse="sqlite", feature="parenthesised set operand",
                                           span=tree_span(operand), extent=Extent(enclosing=True))
            inner = operand.this
            while isinstance(inner, exp.Subquery) and inner.args.get("alias") is None \
                    and not any(inner.args.get(k) for k in _MODIFIERS):
                inner = inner.this
            # The left operand may lose its parentheses (set operations associate to the left); a
            # right one that is itself a set operation, or carries ORDER BY/LIMIT, becomes a derived table.
            plain = isinstance(inner, exp.Select) and not any(inner.args.get(k) for k in _MODIFIERS)
            if plain or (key == "this" and isinstance(inner, exp.SetOperation)
                         and not any(inner.args.get(k) for k in _MODIFIERS)):
                op.set(key, inner)
                continue
            n += 1
            op.set(key, exp.select("*").from_(exp.Subquery(this=inner, alias=exp.TableAlias(
                this=exp.to_identifier(f"_s{n}")))))
    if isinstance(tree, exp.Subquery) and isinstance(tree.this, exp.SetOperation) and tree.args.get("alias") is None \
            and not any(tree.args.get(k) for k in _MODIFIERS):
        return tree.this
    return tree


def _alias_ordered_columns(selects: list[exp.Select]) -> None:
    for select in selects:
        order = select.args.get("order")
        if order is None:
            continue
        bare = {o.this.name.lower() for o in order.expressions
                if isinstance(o.this, exp.Column) and not o.this.table}
        if not bare:
            continue
        aliased = {p.alias.lower() for p in select.expressions if isinstance(p, exp.Alias)}
        for projection in select.expressions:
            if isinstance(projection, exp.Column) and projection.table and projection.name.lower() in bare \
                    and projection.name.lower() not in aliased:
                projection.replace(exp.alias_(projection.copy(), projection.name, quoted=projection.this.quoted))
                aliased.add(projection.name.lower())
