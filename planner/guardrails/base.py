"""What every guardrail reads; each guardrail is a pure function of it returning findings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from planner.analysis import Analysis
from planner.estimate import Estimate
from planner.guardrails.thresholds import GuardrailThresholds
from planner.joins import JoinInfo
from planner.model import Guardrail, TableUse
from planner.positions import Span, node_span
from planner.scopes import Source
from planner.sqlgen import snippet


@dataclass(frozen=True, slots=True)
class Facts:
    analysis: Analysis
    estimate: Estimate
    tables: tuple[TableUse, ...]
    thresholds: GuardrailThresholds
    dialect: str  # the analyst's, for quoting SQL back in messages


Check = Callable[[Facts], list[Guardrail]]


def join_span(info: JoinInfo) -> Span | None:
    """Where a join is written: its JOIN item, else (a comma join) the WHERE conditions linking it,
    else the table it brings in."""
    if info.explicit and info.node is not None and (span := node_span(info.node)) is not None:
        return span
    spans = [s for c in info.conjuncts if (s := node_span(c)) is not None]
    if spans:
        return min(s[0] for s in spans), max(s[1] for s in spans)
    return source_span(info.right)


def source_span(source: Source) -> Span | None:
    return node_span(source.node)


def describe_join(info: JoinInfo, dialect: str) -> str:
    names = f"{info.left.label} - {info.right.label}"
    if info.using:
        return f"{names} using ({', '.join(info.using)})"
    if info.conjuncts:
        return f"{names} on {' AND '.join(snippet(c, dialect) for c in info.conjuncts)}"
    return names
