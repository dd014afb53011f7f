"""Plain records of the drift area: stored drift reports and per-version value baselines."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class DriftSource(enum.Enum):
    """Where a new schema came from. Compatibility checks are dry runs and store nothing."""

    REFRESH = "REFRESH"  # refreshSchema re-introspected a warehouse table
    CONTRACT = "CONTRACT"  # a new contract version was registered
    PROMOTION = "PROMOTION"  # a SHADOW version was compared with the versions in use


@dataclass(frozen=True, slots=True)
class StoredChange:
    """One change as stored and served (the engine's ``SchemaChange``, flattened to JSON)."""

    type: str
    column: str
    old_column: str | None
    new_column: str | None
    old_type: str | None
    new_type: str | None
    severity: str
    reason: str
    confidence: float | None = None
    undecided: bool = False
    against_version: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "column": self.column, "old_column": self.old_column,
                "new_column": self.new_column, "old_type": self.old_type, "new_type": self.new_type,
                "severity": self.severity, "reason": self.reason, "confidence": self.confidence,
                "undecided": self.undecided, "against_version": self.against_version}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StoredChange:
        return cls(type=d["type"], column=d["column"], old_column=d.get("old_column"),
                   new_column=d.get("new_column"), old_type=d.get("old_type"),
                   new_type=d.get("new_type"), severity=d["severity"], reason=d.get("reason", ""),
                   confidence=d.get("confidence"), undecided=bool(d.get("undecided", False)),
                   against_version=d.get("against_version"))


@dataclass(frozen=True, slots=True)
class NewDriftReport:
    table: str
    contract_id: str | None
    source: DriftSource
    from_version: int | None  # table (or contract) version compared from; None for several
    to_version: int | None
    from_schema_version: str | None
    to_schema_version: str | None
    changes: tuple[StoredChange, ...]
    severity: str
    migration_guide: str
    version_rule: str | None
    detected_by: str
    detected_at: datetime
    fingerprint: str  # identifies the same detection, so a repeated one is not stored twice


@dataclass(frozen=True, slots=True)
class DriftReportRecord:
    id: int | None  # None: nothing changed, so nothing was stored
    table: str
    contract_id: str | None
    source: DriftSource
    from_version: int | None
    to_version: int | None
    from_schema_version: str | None
    to_schema_version: str | None
    changes: tuple[StoredChange, ...]
    severity: str
    migration_guide: str
    version_rule: str | None
    detected_by: str
    detected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None
