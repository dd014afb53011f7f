"""EXPLOSIVE_JOIN: a join whose fan-out, or a result whose size, is past the thresholds."""

from __future__ import annotations

from planner.guardrails.base import Facts, describe_join, join_span
from planner.model import Guardrail

TYPE = "EXPLOSIVE_JOIN"


def explosive_join(facts: Facts) -> list[Guardrail]:
    found: list[Guardrail] = []
    limit = facts.thresholds.explosive_fan_out
    for info in facts.analysis.joins:
        fan = facts.estimate.fan_outs.get(id(info), 1.0)
        if fan > limit:
            found.append(Guardrail(TYPE, f"The join {describe_join(info, facts.dialect)} multiplies rows by "
                                         f"about {fan:,.0f} (over {limit:,.0f}); check the join keys or "
                                         f"aggregate before joining.", True, join_span(info)))
    rows = facts.estimate.rows
    if not found and rows is not None and rows > facts.thresholds.explosive_result_rows:
        found.append(Guardrail(TYPE, f"The query is estimated to produce about {rows:,} rows before the row "
                                     f"cap (over {facts.thresholds.explosive_result_rows:,}); add filters or "
                                     f"aggregate.", True))
    return found
