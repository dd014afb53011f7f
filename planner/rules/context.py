"""What every rewrite rule may read: the resolution and the options."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.model import PlanOptions
from planner.resolve import Resolution


@dataclass(frozen=True, slots=True)
class RewriteContext:
    resolution: Resolution
    options: PlanOptions
    # What a rule wants the preview to say (a semantic difference it could not rewrite away).
    notes: list[str] = field(default_factory=list)

    @property
    def warehouse(self) -> str:
        return self.options.warehouse_dialect
