"""Plain records of the joins area: candidates, rejections and accepted join versions."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.domain import JoinState, RiskLevel


class CandidateStatus(enum.Enum):
    OPEN = "OPEN"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"


class RejectionCategory(enum.Enum):
    """Why an admin said no, as a bounded label (metrics never carry free text)."""

    WRONG_COLUMNS = "WRONG_COLUMNS"
    MANY_TO_MANY = "MANY_TO_MANY"
    LOW_OVERLAP = "LOW_OVERLAP"
    TOO_MANY_NULLS = "TOO_MANY_NULLS"
    FAN_OUT = "FAN_OUT"
    NOT_USEFUL = "NOT_USEFUL"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class ValidationStats:
    """What the warehouse said about a join; stored as JSON with the candidate or the join."""

    cardinality: str
    null_percentage: float
    left_null_percentage: float
    right_null_percentage: float
    fan_out_multiplier: float
    inclusion: float | None
    joined_rows: int
    left_rows_sampled: int
    right_rows_sampled: int
    sample_size: int
    sample_rows: list[dict[str, Any]]
    flags: tuple[str, ...]
    measured_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "cardinality": self.cardinality, "null_percentage": self.null_percentage,
            "left_null_percentage": self.left_null_percentage,
            "right_null_percentage": self.right_null_percentage,
            "fan_out_multiplier": self.fan_out_multiplier, "inclusion": self.inclusion,
            "joined_rows": self.joined_rows, "left_rows_sampled": self.left_rows_sampled,
            "right_rows_sampled": self.right_rows_sampled, "sample_size": self.sample_size,
            "sample_rows": self.sample_rows, "flags": list(self.flags),
            "measured_at": self.measured_at.isoformat() if self.measured_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ValidationStats | None:
        if not data:
            return None
        measured = data.get("measured_at")
        return cls(
            cardinality=data["cardinality"], null_percentage=float(data["null_percentage"]),
            left_null_percentage=float(data.get("left_null_percentage", 0.0)),
            right_null_percentage=float(data.get("right_null_percentage", 0.0)),
            fan_out_multiplier=float(data["fan_out_multiplier"]), inclusion=data.get("inclusion"),
            joined_rows=int(data.get("joined_rows", 0)), left_rows_sampled=int(data.get("left_rows_sampled", 0)),
            right_rows_sampled=int(data.get("right_rows_sampled", 0)),
            sample_size=int(data.get("sample_size", 0)), sample_rows=list(data.get("sample_rows") or []),
            flags=tuple(data.get("flags") or ()),
            measured_at=datetime.fromisoformat(measured) if measured else None,
        )


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    kind: str
    detail: str
    weight: float


@dataclass(frozen=True, slots=True)
class RejectionRecord:
    candidate_id: str
    category: RejectionCategory
    reason: str
    fingerprint: str
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CandidateRecord:
    id: str
    left_table: str
    left_columns: tuple[str, ...]
    right_table: str
    right_columns: tuple[str, ...]
    condition: str
    join_type: str
    confidence: float
    risk_level: RiskLevel
    reason: str
    assumptions: tuple[str, ...]
    evidence: tuple[EvidenceRecord, ...]
    validation_stats: ValidationStats | None
    fingerprint: str
    status: CandidateStatus
    first_seen_at: datetime
    last_seen_at: datetime
    rejection: RejectionRecord | None = None  # the latest one, if any

    @property
    def tables(self) -> tuple[str, str]:
        return (self.left_table, self.right_table)


@dataclass(frozen=True, slots=True)
class JoinRecord:
    """One version of an accepted join; the versions of one pair of tables share ``id``."""

    id: str
    version: int
    state: JoinState
    left_table: str
    left_columns: tuple[str, ...]
    right_table: str
    right_columns: tuple[str, ...]
    condition: str
    join_type: str
    candidate_id: str | None
    accepted_by: str
    accepted_at: datetime
    rationale: str
    validation_stats: ValidationStats | None
    supersedes: int | None
    deprecated_at: datetime | None = None
    deprecated_by: str | None = None
    deprecation_reason: str | None = None

    @property
    def tables(self) -> tuple[str, str]:
        return (self.left_table, self.right_table)
