"""CARTESIAN_PRODUCT: two FROM items with no condition linking them, in ON or WHERE."""

from __future__ import annotations

from planner.guardrails.base import Facts, join_span
from planner.model import Guardrail

TYPE = "CARTESIAN_PRODUCT"


def cartesian_product(facts: Facts) -> list[Guardrail]:
    return [
        Guardrail(TYPE, f"{info.left.label} and {info.right.label} are joined without any condition, so every "
                        f"row of one pairs with every row of the other; add a join condition in ON or WHERE.",
                  True, join_span(info))
        for info in facts.analysis.joins if not info.linked
    ]
