"""The functions an editor offers: those the planner allows, by the names analysts write.

Until the per-warehouse table of functions lands, this is the allow-list read as SQL names,
less sqlglot's internal names (``TS_OR_DS_ADD`` and friends are not something anyone types).
"""

from __future__ import annotations

from functools import cache

from sqlglot import exp

from planner.allowlist import ALLOWED_ANONYMOUS, ALLOWED_FUNCTIONS

_INTERNAL = ("TS_OR_DS", "STR_TO_", "_TO_STR", "TIME_STR", "DATE_STR", "DATE_TO_", "TIME_TO_", "UNIX_TO",
             "_OF_", "REGEXP_I_LIKE", "SAFE_DIVIDE", "LOGICAL_", "ARG_M")
_NOT_FUNCTIONS = frozenset({"ANONYMOUS", "AND", "OR", "XOR", "CASE", "EXISTS", "PAD", "FIRST", "LAST",
                            "STR_POSITION", "IF", "CONTAINS"})


@cache
def functions_for(warehouse: str) -> tuple[str, ...]:
    names: set[str] = {n.upper() for n in ALLOWED_ANONYMOUS}
    for class_name in ALLOWED_FUNCTIONS:
        cls = getattr(exp, class_name, None)
        if cls is None or not hasattr(cls, "sql_names"):
            continue
        name = cls.sql_names()[0]
        if name not in _NOT_FUNCTIONS and not any(part in name for part in _INTERNAL):
            names.add(name)
    return tuple(sorted(names))
