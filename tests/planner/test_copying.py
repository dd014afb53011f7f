"""copy_tree makes the copy sqlglot's Expression.copy() makes, and carried_over binds it as resolve() would."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from planner import PlannerError
from planner.copying import copy_tree
from planner.parse import parse
from planner.resolve import Resolution, carried_over, resolve
from tests.planner import golden

VALID = golden.all_cases(invalid=False)


def _shape(tree: exp.Expr) -> list[tuple[object, ...]]:
    return [(type(n), n.arg_key, n.index, type(n.parent), n._meta, n.comments, repr(n.type) if n._type else None,
             {k: v for k, v in n.args.items() if not isinstance(v, exp.Expr | list)})
            for n in tree.walk()]


def _bindings(resolution: Resolution, tree: exp.Expr) -> tuple[list[tuple[object, ...]], ...]:
    """Bindings by the position of their nodes in the tree, so that two trees can be compared."""
    order = {id(n): i for i, n in enumerate(tree.walk())}
    return ([(order[id(b.node)], b.version, b.pinned) for b in resolution.tables],
            sorted((order[k], order[id(c)]) for k, c in resolution.cte_refs.items()),
            sorted((order[k], order[id(b.node)]) for k, b in resolution.by_node.items()))


@pytest.mark.parametrize("case", VALID, ids=[c.id for c in VALID])
def test_copy_tree_is_expression_copy(case: golden.Case) -> None:
    options = case.options()
    try:
        tree = parse(case.sql, options.read_dialect)
    except PlannerError:
        pytest.skip("refused by the checks")
    copied, pairs = copy_tree(tree)
    assert _shape(copied) == _shape(tree.copy())
    assert copied == tree
    originals, copies = list(tree.walk()), list(copied.walk())
    assert all(pairs[id(o)] is c and c is not o for o, c in zip(originals, copies, strict=True))
    assert not any(c._meta is not None and c._meta is o._meta for o, c in zip(originals, copies, strict=True))
    try:
        resolution = resolve(tree, case.catalog(), options)
    except PlannerError:
        return
    assert _bindings(carried_over(resolution, pairs), copied) == _bindings(resolve(copied, case.catalog(), options),
                                                                            copied)


def test_copy_tree_deep_copies_a_meta_it_cannot_share() -> None:
    tree = sqlglot.parse_one("SELECT a FROM t")
    tree.meta["parts"] = ["x"]
    copied, _ = copy_tree(tree)
    assert copied.meta == {"parts": ["x"]}
    assert copied.meta["parts"] is not tree.meta["parts"]
