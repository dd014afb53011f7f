"""What each warehouse runs, in one place: functions, analytic constructs and parser limits.

    profile(dialect) -> WarehouseProfile      the table row of one warehouse (by sqlglot dialect)
    functions_for(dialect) -> FunctionSpecs   the functions it runs (natively or rewritten), for completions
    function_key(node) -> str                 how the allow-list and the profiles name a function node
    constructs_of(node) -> construct names    the analytic constructs one AST node uses

The gateway's warehouse adapters declare a sqlglot dialect; this table is what that dialect runs.
"""

from __future__ import annotations

from functools import cache

from sqlglot import exp

from planner.capabilities.functions import FUNCTIONS, FunctionSpec
from planner.capabilities.profiles import (
    ALL_CONSTRUCTS,
    CUBE,
    FILTER,
    FRAME,
    GROUPING,
    GROUPING_SETS,
    GROUPS_FRAME,
    LATERAL,
    PROFILES,
    QUALIFY,
    ROLLUP,
    WITHIN_GROUP,
    WarehouseProfile,
)

WAREHOUSES: tuple[str, ...] = tuple(PROFILES)

# AST node -> the construct it is (GROUP BY ROLLUP … and friends, FILTER, LATERAL, …).
CONSTRUCT_NODES: dict[type[exp.Expr], str] = {
    exp.Rollup: ROLLUP, exp.Cube: CUBE, exp.GroupingSets: GROUPING_SETS, exp.Grouping: GROUPING,
    exp.Filter: FILTER, exp.Qualify: QUALIFY, exp.Lateral: LATERAL, exp.WithinGroup: WITHIN_GROUP,
}


def profile(dialect: str) -> WarehouseProfile:
    """The profile of a warehouse dialect; KeyError names the dialects there are."""
    found = PROFILES.get(dialect)
    if found is None:
        raise KeyError(f"No warehouse profile for {dialect!r}; there are {', '.join(PROFILES)}.")
    return found


def function_key(node: exp.Expr) -> str:
    return node.name.lower() if isinstance(node, exp.Anonymous) else type(node).__name__


def constructs_of(node: exp.Expr) -> str | None:
    """The construct a node is, if it is one the profiles list (a window frame by its kind)."""
    if isinstance(node, exp.WindowSpec):
        kind = (node.args.get("kind") or "").upper()
        return GROUPS_FRAME if kind == "GROUPS" else FRAME if kind else None
    return CONSTRUCT_NODES.get(type(node))


@cache
def functions_for(dialect: str) -> tuple[FunctionSpec, ...]:
    """The allowed functions this warehouse runs, natively or through an exact rewrite."""
    from planner.allowlist import ALLOWED_ANONYMOUS, ALLOWED_FUNCTIONS
    from planner.rules.portable_functions import rewritable  # the rule module reads this package

    lacks = profile(dialect).lacks
    runs = []
    for spec in FUNCTIONS:
        node = example_node(spec)
        key = function_key(node)
        allowed = (key in ALLOWED_ANONYMOUS if isinstance(node, exp.Anonymous)
                   else key in ALLOWED_FUNCTIONS or not isinstance(node, exp.Func))
        if allowed and (key not in lacks or key in rewritable(dialect)):
            runs.append(spec)
    return tuple(runs)


def example_node(spec: FunctionSpec) -> exp.Expr:
    """The function node of a spec's example, parsed as an analyst would write it (sqlglot may
    model a plain name as a class, e.g. LPAD as Pad)."""
    import sqlglot

    select = sqlglot.parse_one(f"SELECT {spec.example}", read=spec.dialect)
    node = select.expressions[0]
    while isinstance(node, exp.Window | exp.WithinGroup | exp.IgnoreNulls | exp.RespectNulls | exp.Alias):
        node = node.this
    return node


__all__ = [
    "ALL_CONSTRUCTS",
    "CONSTRUCT_NODES",
    "FUNCTIONS",
    "PROFILES",
    "WAREHOUSES",
    "FunctionSpec",
    "WarehouseProfile",
    "constructs_of",
    "example_node",
    "function_key",
    "functions_for",
    "profile",
]
