"""DEPRECATED_TABLE: a pinned version that is DEPRECATED (a warning)."""

from __future__ import annotations

from planner.catalog import DEPRECATED
from planner.guardrails.base import Facts, source_span
from planner.model import Guardrail
from planner.positions import Span

TYPE = "DEPRECATED_TABLE"


def deprecated_table(facts: Facts) -> list[Guardrail]:
    seen: dict[tuple[str, int], None] = {}
    for use in facts.tables:
        if use.state == DEPRECATED:
            seen.setdefault((use.name, use.version), None)
    return [Guardrail(TYPE, f"{name} v{version} is DEPRECATED; it may be removed. Move to the active "
                            f"version when you can.", False, _first_reference(facts, name, version))
            for name, version in seen]


def _first_reference(facts: Facts, name: str, version: int) -> Span | None:
    """Where the analyst named that version first (in the order the query is written)."""
    spans = [span for scope in facts.analysis.scopes for source in scope.sources
             if source.version is not None and source.version.table == name.lower()
             and source.version.version == version and (span := source_span(source)) is not None]
    return min(spans) if spans else None
