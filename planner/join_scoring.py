"""Scoring join proposals: confidence, risk, assumptions and flags, from evidence and measurements.

Pure: the gateway measures the warehouse (:class:`Measurement`) and this module decides. Every
number that shapes a decision is in :data:`WEIGHTS` or :data:`THRESHOLDS`, in one place.

Confidence is a noisy-OR of the independent pieces of evidence (each alone is a hint; together
they are near-certain), multiplied by what the data says: a name match whose values do not
overlap is worth little however good the names look, and a many-to-many join is rarely what
anyone meant.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from planner.join_discovery import Evidence, EvidenceKind, JoinProposal, observed_weight

ONE_TO_ONE, ONE_TO_MANY, MANY_TO_ONE, MANY_TO_MANY = "ONE_TO_ONE", "ONE_TO_MANY", "MANY_TO_ONE", "MANY_TO_MANY"
HIGH, MEDIUM, LOW = "HIGH", "MEDIUM", "LOW"
HIGH_NULL_PERCENTAGE, HIGH_FAN_OUT = "HIGH_NULL_PERCENTAGE", "HIGH_FAN_OUT"


@dataclass(frozen=True, slots=True)
class Weights:
    foreign_key: float = 0.8
    name_match: float = 0.6
    shared_name: float = 0.3
    inclusion: float = 0.6  # granted in full at complete inclusion, scaled below
    inclusion_floor: float = 0.2  # the multiplier left when no value overlaps
    many_to_many: float = 0.6  # the multiplier for a many-to-many join
    unmeasured_cap: float = 0.79  # never HIGH without having looked at the data


@dataclass(frozen=True, slots=True)
class Thresholds:
    high_confidence: float = 0.8
    medium_confidence: float = 0.5
    null_flag_percentage: float = 10.0
    fan_out_flag: float = 100.0
    low_inclusion: float = 0.5
    full_inclusion: float = 0.9


WEIGHTS = Weights()
THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class Measurement:
    """What the warehouse said about one proposal, on a sample of each side."""

    left_rows: int
    right_rows: int
    left_null_rows: int
    right_null_rows: int
    left_distinct: int  # distinct non-null keys
    right_distinct: int
    inclusion_checked: int  # distinct non-null left keys looked up on the right
    inclusion_found: int
    joined_rows: int  # rows an inner join of the two samples produces
    sample_size: int
    left_total: int | None = None  # the whole table, when known
    right_total: int | None = None

    @property
    def left_null_percentage(self) -> float:
        return _pct(self.left_null_rows, self.left_rows)

    @property
    def right_null_percentage(self) -> float:
        return _pct(self.right_null_rows, self.right_rows)

    @property
    def null_percentage(self) -> float:
        return max(self.left_null_percentage, self.right_null_percentage)

    @property
    def left_unique(self) -> bool:
        return self.left_distinct >= self.left_rows - self.left_null_rows

    @property
    def right_unique(self) -> bool:
        return self.right_distinct >= self.right_rows - self.right_null_rows

    @property
    def cardinality(self) -> str:
        """From left to right: MANY_TO_ONE means each left row finds at most one right row."""
        return {(True, True): ONE_TO_ONE, (True, False): ONE_TO_MANY,
                (False, True): MANY_TO_ONE, (False, False): MANY_TO_MANY}[(self.left_unique, self.right_unique)]

    @property
    def inclusion(self) -> float | None:
        return self.inclusion_found / self.inclusion_checked if self.inclusion_checked else None

    @property
    def fan_out(self) -> float:
        """How many times the join multiplies the larger of its inputs."""
        return round(self.joined_rows / max(self.left_rows, self.right_rows, 1), 3)

    @property
    def sampled(self) -> bool:
        return any(total is not None and total > self.sample_size for total in (self.left_total, self.right_total))


@dataclass(frozen=True)
class ScoredJoin:
    proposal: JoinProposal
    confidence: float
    level: str
    risk: str
    join_type: str
    reason: str
    assumptions: tuple[str, ...]
    flags: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    fingerprint: str


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def confidence_level(confidence: float) -> str:
    if confidence >= THRESHOLDS.high_confidence:
        return HIGH
    return MEDIUM if confidence >= THRESHOLDS.medium_confidence else LOW


def evidence_weight(evidence: Evidence) -> float:
    fixed = {EvidenceKind.FOREIGN_KEY: WEIGHTS.foreign_key, EvidenceKind.NAME_MATCH: WEIGHTS.name_match,
             EvidenceKind.SHARED_NAME: WEIGHTS.shared_name}
    if evidence.kind is EvidenceKind.OBSERVED:
        return observed_weight(evidence.count, evidence.users)
    return fixed.get(evidence.kind, 0.0)


def score(proposal: JoinProposal, measurement: Measurement | None) -> ScoredJoin:
    evidence = list(proposal.evidence)
    weights = [evidence_weight(e) for e in evidence]
    inclusion = measurement.inclusion if measurement else None
    if inclusion is not None:
        found, checked = measurement.inclusion_found, measurement.inclusion_checked  # type: ignore[union-attr]
        evidence.append(Evidence(
            EvidenceKind.VALUE_INCLUSION,
            f"{100 * inclusion:.0f} % of {checked} sampled {_side(proposal.left_table, proposal.left_columns)} "
            f"values exist in {_side(proposal.right_table, proposal.right_columns)} ({found} found)"))
        if inclusion >= THRESHOLDS.full_inclusion:
            weights.append(WEIGHTS.inclusion * inclusion)
    confidence = 1.0 - math.prod(1.0 - w for w in weights)
    if inclusion is not None:
        confidence *= WEIGHTS.inclusion_floor + (1 - WEIGHTS.inclusion_floor) * inclusion
    if measurement is not None and measurement.cardinality == MANY_TO_MANY:
        confidence *= WEIGHTS.many_to_many
    if measurement is None:
        confidence = min(confidence, WEIGHTS.unmeasured_cap)
    confidence = round(max(0.0, min(1.0, confidence)), 3)
    flags = _flags(measurement)
    join_type = "LEFT" if measurement and (measurement.left_null_rows or (inclusion or 1.0) < 1.0) else "INNER"
    return ScoredJoin(
        proposal=proposal, confidence=confidence, level=confidence_level(confidence),
        risk=_risk(confidence, measurement, flags), join_type=join_type,
        reason="; ".join(e.detail for e in evidence),
        assumptions=_assumptions(proposal, measurement, join_type), flags=flags,
        evidence=tuple(evidence), fingerprint=fingerprint(proposal, measurement),
    )


def _flags(m: Measurement | None) -> tuple[str, ...]:
    if m is None:
        return ()
    flags = []
    if m.null_percentage > THRESHOLDS.null_flag_percentage:
        flags.append(HIGH_NULL_PERCENTAGE)
    if m.fan_out > THRESHOLDS.fan_out_flag:
        flags.append(HIGH_FAN_OUT)
    return tuple(flags)


def _risk(confidence: float, m: Measurement | None, flags: tuple[str, ...]) -> str:
    if m is None:
        return MEDIUM
    inclusion = m.inclusion
    if m.cardinality == MANY_TO_MANY or HIGH_FAN_OUT in flags or (
            inclusion is not None and inclusion < THRESHOLDS.low_inclusion):
        return HIGH
    if flags or confidence < THRESHOLDS.medium_confidence or (
            inclusion is not None and inclusion < THRESHOLDS.full_inclusion):
        return MEDIUM
    return LOW


def _side(table: str, columns: tuple[str, ...]) -> str:
    return f"{table}.{columns[0]}" if len(columns) == 1 else f"{table}.({', '.join(columns)})"


def _assumptions(p: JoinProposal, m: Measurement | None, join_type: str) -> tuple[str, ...]:
    left, right = _side(p.left_table, p.left_columns), _side(p.right_table, p.right_columns)
    if m is None:
        return (f"not validated on the warehouse: cardinality, nulls and overlap of {left} and {right} "
                "are unknown",)
    out: list[str] = []
    if m.cardinality in (MANY_TO_ONE, ONE_TO_ONE):
        out.append(f"{right} is unique, so each {p.left_table} row matches at most one {p.right_table} row")
    elif m.cardinality == ONE_TO_MANY:
        out.append(f"{left} is unique; each {p.left_table} row may match many {p.right_table} rows")
    else:
        out.append(f"neither {left} nor {right} is unique: rows multiply (×{m.fan_out:g} on the sample); "
                   "aggregate one side before joining")
    if m.left_null_rows:
        out.append(f"{m.left_null_percentage:g} % of {left} is NULL: "
                   + ("a LEFT join keeps those rows, an INNER join drops them" if join_type == "LEFT"
                      else "an INNER join drops those rows"))
    if m.right_null_rows:
        out.append(f"{m.right_null_percentage:g} % of {right} is NULL and never matches")
    inclusion = m.inclusion
    if inclusion is not None and inclusion < 1.0:
        out.append(f"{100 * (1 - inclusion):.0f} % of sampled {left} values have no match in {p.right_table}")
    if m.sampled:
        out.append(f"statistics are from the first {m.sample_size:,} rows of each table, not the whole table")
    return tuple(out)


def fingerprint(p: JoinProposal, m: Measurement | None) -> str:
    """What a rejection remembers: the same candidate comes back only when this changes.

    Numbers are bucketed, so a few new rows do not resurrect a rejected candidate, but a new
    foreign key, a new analyst writing the join, or a real change in overlap does.
    """
    parts = sorted(e.kind.value for e in p.evidence if e.kind is not EvidenceKind.OBSERVED)
    observed = next((e for e in p.evidence if e.kind is EvidenceKind.OBSERVED), None)
    if observed is not None:
        parts.append(f"OBSERVED:{observed.users}:{int(math.log2(max(observed.count, 1)))}")
    if m is not None:
        inclusion = m.inclusion
        parts.append(f"INCLUSION:{round(inclusion, 1) if inclusion is not None else '-'}")
        parts.append(f"CARDINALITY:{m.cardinality}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
