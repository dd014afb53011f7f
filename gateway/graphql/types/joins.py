"""GraphQL types of joins: candidates with their evidence and statistics, accepted join versions."""

from __future__ import annotations

import asyncio
import enum
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gateway.domain import JoinState, RiskLevel
from gateway.joins_records import CandidateRecord, JoinRecord, RejectionCategory, ValidationStats
from gateway.services.base import aware

_USAGE = "join_usage_counts"  # per-request cache key in Context.extras

# Registered in place (as gateway.graphql.enums does): the GraphQL enum is the domain enum.
strawberry.enum(RiskLevel, name="RiskLevel")
strawberry.enum(JoinState, name="JoinState")
strawberry.enum(RejectionCategory, name="JoinRejectionCategory",
                description="Why a candidate was rejected, as a bounded category (the free-text reason is kept too).")


@strawberry.enum(name="JoinCardinality", description="From the left table to the right one.")
class JoinCardinality(enum.Enum):
    ONE_TO_ONE = "ONE_TO_ONE"
    ONE_TO_MANY = "ONE_TO_MANY"
    MANY_TO_ONE = "MANY_TO_ONE"
    MANY_TO_MANY = "MANY_TO_MANY"


@strawberry.enum(name="ConfidenceLevel", description="HIGH ≥ 0.8, MEDIUM 0.5–0.8, LOW below.")
class ConfidenceLevel(enum.Enum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


def level_of(confidence: float) -> ConfidenceLevel:
    from planner.join_scoring import confidence_level

    return ConfidenceLevel(confidence_level(confidence))


@strawberry.type(description="Measured on the warehouse, on a sample of each side.")
class JoinValidationStats:
    cardinality: JoinCardinality
    null_percentage: float = strawberry.field(description="Null share of the join columns (the worse side), %.")
    left_null_percentage: float
    right_null_percentage: float
    fan_out_multiplier: float = strawberry.field(
        description="Rows the inner join produces over the larger input's rows.")
    inclusion: float | None = strawberry.field(
        description="Share of the left side's sampled distinct keys found on the right, 0–1.")
    joined_rows: int
    left_rows_sampled: int
    right_rows_sampled: int
    sample_size: int
    sample_rows: JSON = strawberry.field(description="A few joined rows, as objects keyed `table.column`.")
    flags: list[str] = strawberry.field(description="HIGH_NULL_PERCENTAGE (> 10 %), HIGH_FAN_OUT (> 100).")
    measured_at: datetime | None

    @classmethod
    def of(cls, s: ValidationStats | None) -> JoinValidationStats | None:
        if s is None:
            return None
        return cls(cardinality=JoinCardinality(s.cardinality), null_percentage=s.null_percentage,
                   left_null_percentage=s.left_null_percentage, right_null_percentage=s.right_null_percentage,
                   fan_out_multiplier=s.fan_out_multiplier, inclusion=s.inclusion, joined_rows=s.joined_rows,
                   left_rows_sampled=s.left_rows_sampled, right_rows_sampled=s.right_rows_sampled,
                   sample_size=s.sample_size, sample_rows=s.sample_rows,  # type: ignore[arg-type]
                   flags=list(s.flags),
                   measured_at=aware(s.measured_at) if s.measured_at else None)


@strawberry.type
class JoinEvidence:
    kind: str = strawberry.field(
        description="FOREIGN_KEY, NAME_MATCH, SHARED_NAME, VALUE_INCLUSION or OBSERVED.")
    detail: str
    weight: float


@strawberry.type
class JoinRejection:
    category: RejectionCategory
    reason: str
    rejected_by: str
    rejected_at: datetime


@strawberry.type
class JoinCandidate:
    id: str = strawberry.field(description="Stable: derived from the normalised condition.")
    tables: list[str]
    left_table: str
    left_columns: list[str]
    right_table: str
    right_columns: list[str]
    join_type: str
    condition: str
    confidence: float
    confidence_level: ConfidenceLevel
    reason: str = strawberry.field(description="Every piece of evidence, each named.")
    evidence: list[JoinEvidence]
    assumptions: list[str]
    risk_level: RiskLevel
    validation_stats: JoinValidationStats | None = strawberry.field(
        description="Null when the warehouse could not be measured (then never HIGH confidence).")
    status: str
    last_rejection: JoinRejection | None

    @classmethod
    def of(cls, c: CandidateRecord) -> JoinCandidate:
        r = c.rejection
        return cls(
            id=c.id, tables=list(c.tables), left_table=c.left_table, left_columns=list(c.left_columns),
            right_table=c.right_table, right_columns=list(c.right_columns), join_type=c.join_type,
            condition=c.condition, confidence=c.confidence, confidence_level=level_of(c.confidence),
            reason=c.reason, evidence=[JoinEvidence(kind=e.kind, detail=e.detail, weight=e.weight)
                                       for e in c.evidence],
            assumptions=list(c.assumptions), risk_level=c.risk_level,
            validation_stats=JoinValidationStats.of(c.validation_stats), status=c.status.value,
            last_rejection=JoinRejection(category=r.category, reason=r.reason, rejected_by=r.actor,
                                         rejected_at=aware(r.at)) if r else None)


@strawberry.type(description="One version of an accepted join; the versions of one pair of tables share `id`.")
class Join:
    id: str
    version: int
    state: JoinState
    tables: list[str]
    left_table: str
    left_columns: list[str]
    right_table: str
    right_columns: list[str]
    condition: str
    join_type: str
    accepted_by: str
    accepted_at: datetime
    rationale: str
    validation_stats: JoinValidationStats | None = strawberry.field(description="As measured at acceptance.")
    supersedes: int | None = strawberry.field(description="The version this one replaced.")
    candidate_id: str | None
    deprecated_at: datetime | None
    deprecated_by: str | None
    deprecation_reason: str | None

    @strawberry.field(description="Executed queries that used this version of the join (the newest 50,000 "
                                  "executions are read).")
    async def usage_count(self, info: strawberry.Info) -> int:
        ctx = info.context
        # One read of the query log per request, however many joins the response lists.
        pending = ctx.extras.get(_USAGE)
        if pending is None:
            pending = ctx.extras[_USAGE] = asyncio.ensure_future(
                ctx.services.joins.usage_counts(ctx.require_principal()))
        counts: dict[tuple[str, int], int] = await pending
        return counts.get((self.id, self.version), 0)

    @classmethod
    def of(cls, j: JoinRecord) -> Join:
        return cls(
            id=j.id, version=j.version, state=j.state, tables=list(j.tables), left_table=j.left_table,
            left_columns=list(j.left_columns), right_table=j.right_table, right_columns=list(j.right_columns),
            condition=j.condition, join_type=j.join_type, accepted_by=j.accepted_by,
            accepted_at=aware(j.accepted_at), rationale=j.rationale,
            validation_stats=JoinValidationStats.of(j.validation_stats), supersedes=j.supersedes,
            candidate_id=j.candidate_id, deprecated_at=aware(j.deprecated_at) if j.deprecated_at else None,
            deprecated_by=j.deprecated_by, deprecation_reason=j.deprecation_reason)
