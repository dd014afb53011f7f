"""The last rule: refuse what the warehouse's parser would reject for its size or depth.

SQLite's parser has a fixed stack of 100 entries (YYSTACKDEPTH): 94 nested parentheses, 31
nested function calls or 18 nested subqueries overflow it ("parser stack overflow"), and an
expression deeper than 1,000 (SQLITE_MAX_EXPR_DEPTH) or a compound of more than 500 SELECTs is
refused too. The planner measures the tree it is about to emit: each node on the way from the
root costs the stack entries SQLite spends on it (measured per construct, rounded up), and the
deepest path must fit the profile's ``max_parser_depth``. Refusing a little early is the safe
side; nothing that previews as valid may overflow at the warehouse.

>>> # SELECT ((((…300 parentheses…)))) on SQLite -> WAREHOUSE_LIMIT (nesting depth)
"""

from __future__ import annotations

from sqlglot import exp

from planner.capabilities import WarehouseProfile, profile
from planner.errors import WarehouseLimit
from planner.positions import Extent, Span, tree_span
from planner.rules.context import RewriteContext

# Stack entries per level, measured on SQLite 3.40 (tests/planner/test_warehouse_limits.py
# probes each shape live): the entry of the parent when the path goes down to a child.
_COST: dict[type[exp.Expr], float] = {
    exp.Paren: 1.07, exp.Subquery: 2.64, exp.Select: 2.64, exp.From: 1.0, exp.Where: 1.0, exp.Having: 1.0,
    exp.Join: 1.6, exp.In: 2.08, exp.Exists: 4.07,
    exp.With: 1.06, exp.CTE: 1.06, exp.Case: 4.17, exp.If: 1.1, exp.Not: 1.1, exp.Neg: 1.07, exp.Cast: 2.18,
    exp.Between: 1.1, exp.Alias: 0.0, exp.Column: 0.0, exp.Identifier: 0.0, exp.Literal: 0.0, exp.Ordered: 1.1,
    exp.Order: 1.1, exp.Group: 1.1, exp.Window: 3.3, exp.WindowSpec: 1.1, exp.Filter: 2.2, exp.Tuple: 2.2,
    exp.Limit: 1.1, exp.TableAlias: 0.0, exp.Table: 0.5,
}
_FUNC_FIRST_ARG = 3.13  # f( x
_FUNC_LATER_ARG = 5.27  # f( a , x
_BINARY_RIGHT = 2.16  # a + ( x
_BINARY_LEFT = 0.0  # left-deep chains (a + b + c) are reduced as they are read
_DEFAULT = 1.1


def warehouse_limits(tree: exp.Expr, ctx: RewriteContext) -> exp.Expr:
    prof = profile(ctx.warehouse)
    if prof.max_parser_depth is not None or prof.max_expression_depth is not None:
        _check_depth(tree, prof)
    if prof.max_compound_selects is not None:
        _check_compounds(tree, prof, prof.max_compound_selects)
    return tree


def parser_depth(tree: exp.Expr) -> tuple[float, int]:
    """The weighted depth of the deepest path (SQLite's parser stack) and the plain depth."""
    deepest, plain = 0.0, 0
    stack: list[tuple[exp.Expr, float, int]] = [(tree, 0.0, 0)]
    shapes, expr = _SHAPES, exp.Expr
    while stack:
        node, depth, level = stack.pop()
        if depth > deepest:
            deepest = depth
        if level > plain:
            plain = level
        kind = type(node)
        shape, step = shapes.get(kind) or _shape(kind)
        level += 1
        if shape == _BINARY:
            left, right = node.args.get("this"), node.args.get("expression")
            if isinstance(left, expr):
                stack.append((left, depth + _BINARY_LEFT, level))
            if isinstance(right, expr):
                stack.append((right, depth + _BINARY_RIGHT, level))
        elif shape == _FUNC:
            for i, arg in enumerate(node.iter_expressions()):
                stack.append((arg, depth + (_FUNC_FIRST_ARG if i == 0 else _FUNC_LATER_ARG), level))
        else:
            for child in node.iter_expressions():
                stack.append((child, depth + step, level))
    return deepest, plain


# How the path goes down from a node of each class, found once per class: this walk visits every
# node of every plan, and isinstance() against the union types was about a quarter of its time.
_BINARY, _FUNC, _PLAIN = "binary", "func", "plain"
_SHAPES: dict[type[exp.Expr], tuple[str, float]] = {}


def _shape(kind: type[exp.Expr]) -> tuple[str, float]:
    if kind in _COST:
        shape = (_PLAIN, _COST[kind])
    elif issubclass(kind, exp.Binary | exp.SetOperation):
        shape = (_BINARY, 0.0)
    elif issubclass(kind, exp.Func):
        shape = (_FUNC, 0.0)
    else:
        shape = (_PLAIN, _DEFAULT)
    _SHAPES[kind] = shape
    return shape


def _too_deep(tree: exp.Expr, weighted: float | None, plain: int | None) -> exp.Expr:
    """The outermost node of the first path past a limit: where the analyst's text nests too deep."""
    stack: list[tuple[exp.Expr, float, int]] = [(tree, 0.0, 0)]
    while stack:
        node, depth, level = stack.pop()
        if (weighted is not None and depth > weighted) or (plain is not None and level > plain):
            return node
        kind = type(node)
        binary = isinstance(node, exp.Binary | exp.SetOperation) and kind not in _COST
        for i, child in enumerate(node.iter_expressions()):
            if binary:
                step = _BINARY_LEFT if node.args.get("this") is child else _BINARY_RIGHT
            elif isinstance(node, exp.Func) and kind not in _COST:
                step = _FUNC_FIRST_ARG if i == 0 else _FUNC_LATER_ARG
            else:
                step = _COST.get(kind, _DEFAULT)
            stack.append((child, depth + step, level + 1))
    return tree


def _blame(node: exp.Expr) -> tuple[Span | None, Extent]:
    if isinstance(node, exp.Select | exp.Subquery):
        return tree_span(node), Extent(keyword="SELECT", enclosing=True)
    return tree_span(node), Extent(enclosing=True)


def _check_depth(tree: exp.Expr, prof: WarehouseProfile) -> None:
    depth, plain = parser_depth(tree)
    if prof.max_parser_depth is not None and depth > prof.max_parser_depth:
        span, extent = _blame(_too_deep(tree, prof.max_parser_depth, None))
        raise WarehouseLimit(
            f"The query nests too deeply for {prof.name}'s parser (about {depth:.0f} of {prof.max_parser_depth:.0f} "
            f"levels: parentheses, function calls, subqueries and CASE all count). Flatten it, e.g. move "
            f"subqueries into WITH clauses and drop redundant parentheses.",
            warehouse=prof.dialect, limit="nesting depth", span=span, extent=extent)
    if prof.max_expression_depth is not None and plain > prof.max_expression_depth:
        span, extent = _blame(_too_deep(tree, None, prof.max_expression_depth))
        raise WarehouseLimit(f"The query's expression tree is {plain} levels deep; {prof.name} accepts at most "
                             f"{prof.max_expression_depth}. Split long chains of AND/OR or + into IN lists or "
                             f"subqueries.", warehouse=prof.dialect, limit="expression depth", span=span,
                             extent=extent)


def _check_compounds(tree: exp.Expr, prof: WarehouseProfile, limit: int) -> None:
    # SQLite counts the SELECTs of one compound (a chain of UNION/INTERSECT/EXCEPT).
    for node in tree.find_all(exp.SetOperation):
        if isinstance(node.parent, exp.SetOperation):
            continue  # counted from the top of its chain
        count, chain = 0, [node]
        while chain:
            part = chain.pop()
            if isinstance(part, exp.SetOperation):
                chain.extend((part.this, part.expression))
            else:
                count += 1
        if count > limit:
            raise WarehouseLimit(f"The query combines {count} SELECTs with UNION/INTERSECT/EXCEPT; {prof.name} "
                                 f"accepts at most {limit} in one compound. Split it into several queries.",
                                 warehouse=prof.dialect, limit="compound SELECTs", span=tree_span(node),
                                 extent=Extent(keyword="SELECT"))


def check_statement_size(sql: str, dialect: str) -> None:
    """The generated statement must fit the warehouse's limit on statement size."""
    prof = profile(dialect)
    limit = prof.max_statement_bytes
    if limit is not None and len(sql) * 4 > limit and len(sql.encode("utf-8")) > limit:
        raise WarehouseLimit(f"The SQL for {prof.name} would be {len(sql.encode('utf-8')):,} bytes; it accepts at "
                             f"most {limit:,}. Shorten the query.", warehouse=dialect, limit="statement size")
