"""DEPRECATED_TABLE: a pinned version that is DEPRECATED (a warning)."""

from __future__ import annotations

from planner.catalog import DEPRECATED
from planner.guardrails.base import Facts
from planner.model import Guardrail

TYPE = "DEPRECATED_TABLE"


def deprecated_table(facts: Facts) -> list[Guardrail]:
    seen: dict[tuple[str, int], None] = {}
    for use in facts.tables:
        if use.state == DEPRECATED:
            seen.setdefault((use.name, use.version), None)
    return [Guardrail(TYPE, f"{name} v{version} is DEPRECATED; it may be removed. Move to the active "
                            f"version when you can.", False) for name, version in seen]
