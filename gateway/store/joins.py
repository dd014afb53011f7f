"""Repository of join candidates, rejections and accepted join versions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.domain import JoinState, RiskLevel
from gateway.joins_records import (
    CandidateRecord,
    CandidateStatus,
    EvidenceRecord,
    JoinRecord,
    RejectionCategory,
    RejectionRecord,
    ValidationStats,
)
from gateway.store.joins_models import AcceptedJoinRow, JoinCandidateRow, JoinRejectionRow

QUERY_EXECUTIONS = "query_executions"


def _rejection(row: JoinRejectionRow) -> RejectionRecord:
    return RejectionRecord(candidate_id=row.candidate_id, category=RejectionCategory(row.category),
                           reason=row.reason, fingerprint=row.fingerprint, actor=row.actor, at=row.at)


def _candidate(row: JoinCandidateRow, rejection: JoinRejectionRow | None) -> CandidateRecord:
    return CandidateRecord(
        id=row.id, left_table=row.left_table, left_columns=tuple(row.left_columns),
        right_table=row.right_table, right_columns=tuple(row.right_columns), condition=row.condition,
        join_type=row.join_type, confidence=row.confidence, risk_level=RiskLevel(row.risk_level),
        reason=row.reason, assumptions=tuple(row.assumptions),
        evidence=tuple(EvidenceRecord(e["kind"], e["detail"], float(e["weight"])) for e in row.evidence),
        validation_stats=ValidationStats.from_json(row.validation_stats), fingerprint=row.fingerprint,
        status=CandidateStatus(row.status), first_seen_at=row.first_seen_at, last_seen_at=row.last_seen_at,
        rejection=_rejection(rejection) if rejection else None,
    )


def _join(row: AcceptedJoinRow) -> JoinRecord:
    return JoinRecord(
        id=row.join_id, version=row.version, state=JoinState(row.state), left_table=row.left_table,
        left_columns=tuple(row.left_columns), right_table=row.right_table,
        right_columns=tuple(row.right_columns), condition=row.condition, join_type=row.join_type,
        candidate_id=row.candidate_id, accepted_by=row.accepted_by, accepted_at=row.accepted_at,
        rationale=row.rationale, validation_stats=ValidationStats.from_json(row.validation_stats),
        supersedes=row.supersedes, deprecated_at=row.deprecated_at, deprecated_by=row.deprecated_by,
        deprecation_reason=row.deprecation_reason,
    )


def _candidate_values(c: CandidateRecord) -> dict[str, Any]:
    return dict(
        left_table=c.left_table, left_columns=list(c.left_columns), right_table=c.right_table,
        right_columns=list(c.right_columns), condition=c.condition, join_type=c.join_type,
        confidence=c.confidence, risk_level=c.risk_level.value, reason=c.reason,
        assumptions=list(c.assumptions),
        evidence=[{"kind": e.kind, "detail": e.detail, "weight": e.weight} for e in c.evidence],
        validation_stats=c.validation_stats.as_json() if c.validation_stats else None,
        fingerprint=c.fingerprint, status=c.status.value, last_seen_at=c.last_seen_at,
    )


class JoinsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- candidates ----------------------------------------------------------------------

    async def candidates(self, ids: Iterable[str]) -> dict[str, CandidateRecord]:
        wanted = list(ids)
        if not wanted:
            return {}
        rows = (await self._session.scalars(select(JoinCandidateRow).where(JoinCandidateRow.id.in_(wanted)))).all()
        latest = await self._latest_rejections([r.id for r in rows])
        return {r.id: _candidate(r, latest.get(r.id)) for r in rows}

    async def candidate(self, candidate_id: str) -> CandidateRecord | None:
        return (await self.candidates([candidate_id])).get(candidate_id)

    async def _latest_rejections(self, ids: list[str]) -> dict[str, JoinRejectionRow]:
        if not ids:
            return {}
        rows = (await self._session.scalars(
            select(JoinRejectionRow).where(JoinRejectionRow.candidate_id.in_(ids)).order_by(JoinRejectionRow.id)
        )).all()
        return {r.candidate_id: r for r in rows}  # ordered by id: the last one wins

    async def save_candidate(self, candidate: CandidateRecord) -> None:
        """Insert or refresh; ``first_seen_at`` is kept from the first sighting."""
        row = await self._session.get(JoinCandidateRow, candidate.id)
        values = _candidate_values(candidate)
        if row is None:
            self._session.add(JoinCandidateRow(id=candidate.id, first_seen_at=candidate.first_seen_at, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        await self._session.flush()

    async def set_candidate_status(self, candidate_id: str, status: CandidateStatus) -> None:
        row = await self._session.get(JoinCandidateRow, candidate_id)
        if row is not None:
            row.status = status.value
            await self._session.flush()

    async def add_rejection(self, rejection: RejectionRecord) -> None:
        self._session.add(JoinRejectionRow(
            candidate_id=rejection.candidate_id, category=rejection.category.value, reason=rejection.reason,
            fingerprint=rejection.fingerprint, actor=rejection.actor, at=rejection.at))
        await self._session.flush()

    # --- accepted joins ------------------------------------------------------------------

    async def versions(self, join_id: str) -> list[JoinRecord]:
        rows = (await self._session.scalars(
            select(AcceptedJoinRow).where(AcceptedJoinRow.join_id == join_id).order_by(AcceptedJoinRow.version)
        )).all()
        return [_join(r) for r in rows]

    async def list_joins(self, *, table: str | None, include_deprecated: bool) -> list[JoinRecord]:
        query = select(AcceptedJoinRow).order_by(AcceptedJoinRow.join_id, AcceptedJoinRow.version)
        if table:
            query = query.where(or_(AcceptedJoinRow.left_table == table, AcceptedJoinRow.right_table == table))
        if not include_deprecated:
            query = query.where(AcceptedJoinRow.state == JoinState.ACTIVE.value)
        return [_join(r) for r in (await self._session.scalars(query)).all()]

    async def active(self) -> list[JoinRecord]:
        return await self.list_joins(table=None, include_deprecated=False)

    async def add_version(self, join: JoinRecord) -> None:
        self._session.add(AcceptedJoinRow(
            join_id=join.id, version=join.version, state=join.state.value, left_table=join.left_table,
            left_columns=list(join.left_columns), right_table=join.right_table,
            right_columns=list(join.right_columns), condition=join.condition, join_type=join.join_type,
            candidate_id=join.candidate_id, accepted_by=join.accepted_by, accepted_at=join.accepted_at,
            rationale=join.rationale,
            validation_stats=join.validation_stats.as_json() if join.validation_stats else None,
            supersedes=join.supersedes))
        await self._session.flush()

    async def deprecate(self, join_id: str, version: int, *, actor: str, reason: str, at: datetime) -> bool:
        """ACTIVE → DEPRECATED for one version; False when it was not ACTIVE (someone got there first)."""
        row = await self._session.scalar(select(AcceptedJoinRow).where(
            AcceptedJoinRow.join_id == join_id, AcceptedJoinRow.version == version).with_for_update())
        if row is None or row.state != JoinState.ACTIVE.value:
            return False
        row.state = JoinState.DEPRECATED.value
        row.deprecated_at, row.deprecated_by, row.deprecation_reason = at, actor, reason
        await self._session.flush()
        return True

    # --- evidence from executed queries --------------------------------------------------

    async def executed_joins(self, limit: int) -> list[tuple[str, list[dict[str, Any]]]]:
        """(actor, joins) of the newest executions; nothing while the queries area has no table."""
        connection = await self._session.connection()
        exists = await connection.run_sync(lambda c: inspect(c).has_table(QUERY_EXECUTIONS))
        if not exists:
            return []
        from gateway.store.queries_models import QueryExecutionRow

        rows = (await self._session.execute(
            select(QueryExecutionRow.actor, QueryExecutionRow.joins)
            .where(QueryExecutionRow.status == "OK")
            .order_by(QueryExecutionRow.id.desc()).limit(limit)
        )).all()
        return [(actor, list(joins or [])) for actor, joins in rows]
