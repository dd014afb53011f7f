"""UNVERIFIED_JOIN: a join condition that is not one of the catalog's accepted joins (a warning)."""

from __future__ import annotations

from planner.guardrails.base import Facts, describe_join, join_span
from planner.model import Guardrail

TYPE = "UNVERIFIED_JOIN"


def unverified_join(facts: Facts) -> list[Guardrail]:
    found: list[Guardrail] = []
    seen: set[str] = set()
    for info in facts.analysis.joins:
        if not info.linked or info.accepted is not None:
            continue
        described = describe_join(info, facts.dialect)
        if described in seen:
            continue
        seen.add(described)
        found.append(Guardrail(TYPE, f"The join {described} is not an accepted join; check that it is the "
                                     f"relationship you mean.", False, join_span(info)))
    return found
