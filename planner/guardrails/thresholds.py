"""The guardrail thresholds: the one place these numbers live, as data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GuardrailThresholds:
    explosive_fan_out: float = 1000
    explosive_result_rows: int = 10_000_000
    large_table_rows: int = 1_000_000


DEFAULT_THRESHOLDS = GuardrailThresholds()
