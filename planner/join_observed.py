"""Joins analysts wrote, read back from executed queries as discovery evidence.

Pure (sqlglot only). The query log keeps each join as its two logical tables and the condition
text as written, aliases included (``o.customer_id = c.id``); this recovers the column pairs.
A column is placed on a side by its qualifier when that is the table's own name, else by which
table has a column of that name; a pair that cannot be placed is left out rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from planner.join_discovery import ObservedJoin

_USING = re.compile(r"^\s*USING\s*\((?P<cols>[^)]*)\)\s*$", re.IGNORECASE)


def _side(column: exp.Column, left: str, right: str, columns: Mapping[str, frozenset[str]]) -> str | None:
    qualifier = column.table.lower()
    if qualifier in (left, right):
        return qualifier
    name = column.name.lower()
    in_left, in_right = name in columns.get(left, frozenset()), name in columns.get(right, frozenset())
    if in_left != in_right:
        return left if in_left else right
    return None


def observed_join(left_table: str, right_table: str, condition: str | None, user: str,
                  columns: Mapping[str, frozenset[str]], dialect: str | None = None) -> ObservedJoin | None:
    """The column pairs of one executed join, or None when they cannot be told apart."""
    left, right = left_table.lower(), right_table.lower()
    if not condition or left == right:
        return None
    using = _USING.match(condition)
    if using:
        names = tuple(c.strip().strip('"`').lower() for c in using.group("cols").split(",") if c.strip())
        return ObservedJoin(left, names, right, names, user) if names else None
    try:
        tree = sqlglot.parse_one(condition, read=dialect)
    except (SqlglotError, ValueError):
        return None
    conjuncts = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
    left_cols: list[str] = []
    right_cols: list[str] = []
    for c in conjuncts:
        if not (isinstance(c, exp.EQ) and isinstance(c.this, exp.Column) and isinstance(c.expression, exp.Column)):
            continue
        a, b = c.this, c.expression
        side_a, side_b = _side(a, left, right, columns), _side(b, left, right, columns)
        if side_a is None and side_b is not None:
            side_a = left if side_b == right else right
        if side_b is None and side_a is not None:
            side_b = left if side_a == right else right
        if side_a is None or side_a == side_b:
            continue
        on_left, on_right = (a, b) if side_a == left else (b, a)
        left_cols.append(on_left.name.lower())
        right_cols.append(on_right.name.lower())
    if not left_cols:
        return None
    return ObservedJoin(left, tuple(left_cols), right, tuple(right_cols), user)
