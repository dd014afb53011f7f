"""What every rewrite rule may read: the resolution and the options."""

from __future__ import annotations

from dataclasses import dataclass

from planner.model import PlanOptions
from planner.resolve import Resolution


@dataclass(frozen=True, slots=True)
class RewriteContext:
    resolution: Resolution
    options: PlanOptions

    @property
    def warehouse(self) -> str:
        return self.options.warehouse_dialect
