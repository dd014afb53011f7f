"""What an editor shows under the analyst's SQL: diagnostics with exact ranges and quick fixes.

    diagnose(sql, catalog, options) -> (Plan | None, diagnostics)
    error_diagnostics(error, sql, dialect)     a refusal, and the problems found beside it
    guardrail_diagnostics(plan, sql)           what a valid query trips, as warnings

A refusal is an ``ERROR`` at the offending text; a guardrail is a ``WARNING`` at what it is about
(the join, the table, the aggregate), or over the whole query when it is about the query's size.
Every diagnostic carries the code the same query would get from ``previewQuery``.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.catalog import Catalog
from planner.core import plan
from planner.errors import PlannerError
from planner.locate import locate
from planner.model import Plan, PlanOptions
from planner.positions import Range, to_range

ERROR = "ERROR"
WARNING = "WARNING"


@dataclass(frozen=True, slots=True)
class Suggestion:
    message: str
    replacement: str  # the text to put in place of ``range``
    range: Range


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: str  # ERROR | WARNING
    message: str
    range: Range
    suggestions: tuple[Suggestion, ...] = ()


def diagnose(sql: str, catalog: Catalog, options: PlanOptions) -> tuple[Plan | None, tuple[Diagnostic, ...]]:
    try:
        planned = plan(sql, catalog, options)
    except PlannerError as error:
        return None, error_diagnostics(error, sql, options.read_dialect)
    return planned, guardrail_diagnostics(planned, sql)


def error_diagnostics(error: PlannerError, sql: str, dialect: str) -> tuple[Diagnostic, ...]:
    found: list[Diagnostic] = []
    for each in (error, *error.related):
        located = locate(each, sql, dialect)
        assert located.span is not None  # locate always places an error
        found.append(Diagnostic(
            code=located.code, severity=ERROR, message=located.message, range=to_range(sql, located.span),
            suggestions=tuple(Suggestion(f.message, f.replacement, to_range(sql, f.span)) for f in located.fixes)))
    return tuple(found)


def guardrail_diagnostics(planned: Plan, sql: str) -> tuple[Diagnostic, ...]:
    start = len(sql) - len(sql.lstrip())
    whole = (start, max(start, len(sql.rstrip())))
    return tuple(Diagnostic(code=g.type, severity=WARNING, message=g.message,
                            range=to_range(sql, g.span or whole)) for g in planned.guardrails)
