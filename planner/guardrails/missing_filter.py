"""MISSING_FILTER_LARGE_TABLE: a table over the size threshold read without any filter on it."""

from __future__ import annotations

from planner.guardrails.base import Facts, source_span
from planner.model import Guardrail

TYPE = "MISSING_FILTER_LARGE_TABLE"


def missing_filter(facts: Facts) -> list[Guardrail]:
    limit = facts.thresholds.large_table_rows
    filtered: set[int] = set()
    for scope, conjunct in facts.analysis.filters:
        filtered.update(id(s) for s in scope.sources_of(conjunct))
    for info in facts.analysis.joins:  # a one-sided ON predicate filters too
        for conjunct in info.conjuncts:
            touched = info.scope.sources_of(conjunct)
            if len(touched) == 1:
                filtered.add(id(touched[0]))
    found: list[Guardrail] = []
    seen: set[str] = set()
    for scope in facts.analysis.scopes:
        for source in scope.sources:
            rows = source.version.row_count if source.version is not None else None
            if rows is None or rows <= limit or id(source) in filtered or source.label in seen:
                continue
            seen.add(source.label)
            found.append(Guardrail(TYPE, f"{source.label} has about {rows:,} rows and the query reads it without "
                                         f"a filter; add a WHERE condition on it (a date range, for example).",
                                   False, source_span(source)))
    return found
