"""The guardrails in the order they run: GUARDRAILS, a tuple of pure functions of Facts."""

from __future__ import annotations

from planner.guardrails.ambiguous_aggregate import ambiguous_aggregate
from planner.guardrails.base import Check, Facts
from planner.guardrails.cartesian_product import cartesian_product
from planner.guardrails.deprecated_table import deprecated_table
from planner.guardrails.explosive_join import explosive_join
from planner.guardrails.fan_trap import fan_trap
from planner.guardrails.missing_filter import missing_filter
from planner.guardrails.unverified_join import unverified_join
from planner.model import Guardrail

GUARDRAILS: tuple[Check, ...] = (
    explosive_join,
    cartesian_product,
    ambiguous_aggregate,
    fan_trap,
    missing_filter,
    unverified_join,
    deprecated_table,
)


def run_guardrails(facts: Facts) -> tuple[Guardrail, ...]:
    return tuple(g for check in GUARDRAILS for g in check(facts))


