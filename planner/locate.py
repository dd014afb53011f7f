"""locate(error, sql, dialect): give a planner error the exact place it is about, in the analyst's text.

Errors raised deep in the planner know a span (character offsets) when a node was at hand, or
only the (line, column) sqlglot reported for a syntax error. Here both become one span, and the
error's ``extensions`` get ``line``/``column`` (where it starts) and ``endLine``/``endColumn``
(just past where it ends), so a GraphQL error and an IDE diagnostic point at the same text.
"""

from __future__ import annotations

import re

from planner.errors import InvalidSQL, PlannerError
from planner.positions import Fix, Span, syntax_error_span, to_range, widen

_INCOMPLETE = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]*\.(\w+)'>")


def locate(error: PlannerError, sql: str, dialect: str) -> PlannerError:
    """The same error, placed (idempotent: a located error keeps its span)."""
    span = error.span
    incomplete = _INCOMPLETE.search(error.message)
    if incomplete and isinstance(error, InvalidSQL):
        # sqlglot's wording names its own classes ("Required keyword: 'this' missing for <class …Where>").
        error.message = f"Syntax error: the {incomplete.group(1).upper()} clause is incomplete; finish it or remove it."
        error.args = (error.message,)
    if span is None and isinstance(error, InvalidSQL) and error.line is not None and error.column is not None \
            and sql.strip():
        span, keyword = syntax_error_span(sql, dialect, error.line, error.column)
        if keyword is not None:
            typed = sql[span[0]:span[1]]
            error.message = f"{error.message.rstrip('.')}: '{typed}' is not a keyword; did you mean {keyword}?"
            error.args = (error.message,)
            error.fixes = (Fix(f"Replace with {keyword}", keyword, span),)
    if span is not None and error.extent is not None:
        span = widen(sql, dialect, span, error.extent)
        error.extent = None  # widened once: locate stays idempotent
    if span is None:
        span = _whole(sql)
    error.span = span
    where = to_range(sql, span)
    error.extensions.update(line=where.start.line, column=where.start.column,
                            endLine=where.end.line, endColumn=where.end.column)
    if isinstance(error, InvalidSQL):
        error.line, error.column = where.start.line, where.start.column
    if error.fixes:
        error.extensions["suggestions"] = [f.replacement for f in error.fixes]
    return error


def _whole(sql: str) -> Span:
    """The query without its surrounding whitespace: for errors about the query as a whole."""
    start = len(sql) - len(sql.lstrip())
    return start, max(start, len(sql.rstrip()))
