"""copy_tree(tree) -> (copy, originals' ids -> copies): one plan's second tree, without deepcopy.

:func:`planner.core.plan` rewrites the warehouse SQL from its own copy of the checked tree.
sqlglot's ``Expression.copy()`` passes every node's ``meta`` (the positions the parser kept)
through ``copy.deepcopy``, which costs as much as copying the nodes themselves: about a tenth of
a whole plan. The values the parser stores there are ints and strings, so a new dict with the
same values is as independent as a deep copy; anything else still goes through ``deepcopy``.

The copy is otherwise the one sqlglot makes (same classes, args, comments, types, parents and
list indexes), and it comes with the map from each original node's ``id`` to its copy, so what
was learnt about the original (the table bindings) can be carried over instead of redone.

>>> # copy, pairs = copy_tree(tree); pairs[id(tree)] is copy
"""

from __future__ import annotations

from copy import deepcopy
from typing import TypeVar

from sqlglot import exp

E = TypeVar("E", bound=exp.Expr)
Pairs = dict[int, exp.Expr]  # id(original node) -> its copy

_SCALARS = frozenset({int, str, bool, float, type(None)})


def copy_tree(tree: E) -> tuple[E, Pairs]:
    root = tree.__class__()
    pairs: Pairs = {}
    stack: list[tuple[exp.Expr, exp.Expr]] = [(tree, root)]
    expr, scalars = exp.Expr, _SCALARS
    while stack:
        node, copy = stack.pop()
        pairs[id(node)] = copy
        if node.comments is not None:
            copy.comments = list(node.comments)  # strings: a new list is a deep copy
        if node._type is not None:
            copy._type = node._type.copy()
        meta = node._meta
        if meta is not None:
            for value in meta.values():  # a loop, not all(): this runs for a third of all nodes
                if type(value) not in scalars:
                    copy._meta = deepcopy(meta)
                    break
            else:
                copy._meta = dict(meta)
        # _hash is a cache sqlglot fills again on demand; a copy starts without it.
        args = copy.args
        for key, value in node.args.items():
            if isinstance(value, expr):
                child = value.__class__()
                child.parent, child.arg_key = copy, key
                args[key] = child
                stack.append((value, child))
            elif type(value) is list:
                items = []
                for index, item in enumerate(value):
                    if isinstance(item, expr):
                        child = item.__class__()
                        child.parent, child.arg_key, child.index = copy, key, index
                        stack.append((item, child))
                        item = child
                    items.append(item)
                args[key] = items
            else:
                args[key] = value
    return root, pairs


def copy_of(pairs: Pairs, node: E) -> E:
    """The copy of ``node`` (a copy has its original's class)."""
    return pairs[id(node)]  # type: ignore[return-value]


def copy_node(node: E) -> E:
    """A copy of ``node`` and everything under it: ``node.copy()``, positions copied as above."""
    return copy_tree(node)[0]
