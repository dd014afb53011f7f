"""SQL generation without the per-call costs of ``Expression.sql()``.

``Expression.sql()`` looks the dialect up, builds a generator and deep-copies the tree on every
call; for a plan that generates a dozen snippets and two whole queries, that was most of the
planning time. Here each thread keeps one generator per (dialect, purpose), and trees are not
copied: :func:`planner.core.plan` rewrites the warehouse SQL from its own copy of the checked
tree, so what the preview generators do to the original can never reach the warehouse.
"""

from __future__ import annotations

import threading

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel
from sqlglot.generator import Generator

_local = threading.local()


def _generator(dialect: str, strict: bool) -> Generator:
    cache: dict[tuple[str, bool], Generator] | None = getattr(_local, "generators", None)
    if cache is None:
        cache = _local.generators = {}
    key = (dialect, strict)
    found = cache.get(key)
    if found is None:
        # Strict: what runs or is re-planned must be expressible, else UnsupportedError.
        # Display snippets are read by people only, so they are generated best-effort.
        level = ErrorLevel.RAISE if strict else ErrorLevel.IGNORE
        found = cache[key] = Dialect.get_or_raise(dialect).generator(comments=False, unsupported_level=level)
    return found


def query_sql(tree: exp.Expr, dialect: str, copy: bool = False) -> str:
    """A whole query, strictly: raises ``UnsupportedError`` for what the dialect cannot express.

    Dialect generators may rewrite the tree they are given (T-SQL turns LIMIT into TOP, for one),
    so pass ``copy=True`` whenever the tree is used again afterwards.
    """
    return _generator(dialect, True).generate(tree, copy=copy)


def snippet(node: exp.Expr, dialect: str) -> str:
    """A condition, aggregate or column as a person reads it in the preview."""
    return _generator(dialect, False).generate(node, copy=False)
