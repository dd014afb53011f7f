"""Joins: candidates with evidence and warehouse statistics; admin acceptance, rejection, versions.

"No silent joins": the system suggests, an admin accepts, the planner reports. Accepted joins
reach the planner through the catalog snapshot, so every change here bumps the catalog epoch.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from gateway import metrics
from gateway.domain import Capability, JoinState, RiskLevel
from gateway.errors import Conflict, GatewayError, InvalidInput, InvalidTransition, TableNotFound
from gateway.joins_records import (
    CandidateRecord,
    CandidateStatus,
    EvidenceRecord,
    JoinRecord,
    RejectionCategory,
    RejectionRecord,
    ValidationStats,
)
from gateway.records import Principal, VersionRecord
from gateway.services.access import require
from gateway.services.base import ServiceDeps, audit
from gateway.services.join_evidence import (
    CatalogObservedJoins,
    ObservedJoinsSource,
    discovery_tables,
    resolvable,
)
from gateway.warehouse.join_stats import SAMPLE_SIZE, JoinSide, JoinStats, measure_join
from planner.join_discovery import JoinProposal, canonical_pairs, discover, join_id
from planner.join_scoring import (
    HIGH_FAN_OUT,
    HIGH_NULL_PERCENTAGE,
    MANY_TO_MANY,
    THRESHOLDS,
    ScoredJoin,
    evidence_weight,
    score,
)

log = logging.getLogger("spyne.joins")

MAX_MEASURED = 25  # proposals measured per request, strongest structural evidence first
USAGE_WINDOW = 50_000  # executions read for usage counts, newest first
MAX_TEXT = 2_000


def _text(value: str | None, what: str, *, required: bool = True) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise InvalidInput(f"Give a {what}; it is kept with the decision and shown in the audit log.")
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput(f"The {what} is longer than {MAX_TEXT} characters; shorten it.")
    return cleaned


def _side(version: VersionRecord, columns: Sequence[str]) -> JoinSide:
    display = tuple(c.name for c in version.columns)
    return JoinSide(label=version.table, physical_name=version.physical_name, columns=tuple(columns),
                    display=display, row_count=version.row_count)


def _stats(result: JoinStats | None, scored: ScoredJoin, deps: ServiceDeps) -> ValidationStats | None:
    if result is None:
        return None
    m = result.measurement
    return ValidationStats(
        cardinality=m.cardinality, null_percentage=m.null_percentage, left_null_percentage=m.left_null_percentage,
        right_null_percentage=m.right_null_percentage, fan_out_multiplier=m.fan_out, inclusion=m.inclusion,
        joined_rows=m.joined_rows, left_rows_sampled=m.left_rows, right_rows_sampled=m.right_rows,
        sample_size=m.sample_size, sample_rows=result.sample_rows, flags=scored.flags, measured_at=deps.clock())


def infer_category(candidate: CandidateRecord) -> RejectionCategory:
    """The bounded label for a rejection when the admin gave none: what the statistics flagged."""
    stats = candidate.validation_stats
    if stats is None:
        return RejectionCategory.OTHER
    if stats.cardinality == MANY_TO_MANY:
        return RejectionCategory.MANY_TO_MANY
    if stats.inclusion is not None and stats.inclusion < THRESHOLDS.low_inclusion:
        return RejectionCategory.LOW_OVERLAP
    if HIGH_FAN_OUT in stats.flags:
        return RejectionCategory.FAN_OUT
    if HIGH_NULL_PERCENTAGE in stats.flags:
        return RejectionCategory.TOO_MANY_NULLS
    return RejectionCategory.OTHER


class JoinsService:
    def __init__(self, deps: ServiceDeps, observed: ObservedJoinsSource | None = None, *,
                 max_measured: int = MAX_MEASURED, sample_size: int = SAMPLE_SIZE) -> None:
        self._deps = deps
        self._observed = observed or CatalogObservedJoins(deps.uow)
        self._max_measured = max_measured
        self._sample_size = sample_size

    # --- candidates ----------------------------------------------------------------------

    async def candidates(self, principal: Principal, table1: str, table2: str | None = None,
                         min_confidence: float = 0.0) -> list[CandidateRecord]:
        require(principal, Capability.VIEW_JOIN_CANDIDATES)
        if not 0.0 <= min_confidence <= 1.0:
            raise InvalidInput("`minConfidence` is between 0 and 1.")
        focus = [t.strip().lower() for t in (table1, table2) if t and t.strip()]
        async with self._deps.uow() as uow:
            current = resolvable(await uow.tables.all_versions())
            active = await uow.joins.active()
        for name in focus:
            if name not in current:
                raise TableNotFound(f"No queryable table named {name!r}; `tables` lists what can be joined.")
        tables = discovery_tables(current)
        columns = {t.name: frozenset(c.name.lower() for c in t.columns) for t in tables}
        observed = await self._observed.observed_joins(columns)
        accepted = {canonical_pairs(j.left_table, j.left_columns, j.right_table, j.right_columns) for j in active}
        proposals = [p for p in discover(tables, observed, focus=focus)
                     if canonical_pairs(p.left_table, p.left_columns, p.right_table, p.right_columns) not in accepted]
        proposals = proposals[: self._max_measured]
        async with self._deps.uow() as uow:
            stored = await uow.joins.candidates(p.id for p in proposals)
        results = [await self._evaluate(p, current, stored.get(p.id)) for p in proposals]
        try:
            async with self._deps.uow() as uow:
                for record in results:
                    await uow.joins.save_candidate(record)
                await uow.commit()
        except Conflict:  # another request saved the same candidates first; they are derived data
            log.info("join candidates saved concurrently; keeping the other request's rows")
        shown = [r for r in results if r.status is CandidateStatus.OPEN and r.confidence >= min_confidence]
        shown.sort(key=lambda r: (-r.confidence, r.id))
        return shown

    async def _evaluate(self, proposal: JoinProposal, current: dict[str, VersionRecord],
                        stored: CandidateRecord | None) -> CandidateRecord:
        result = await self._measure(proposal.left_columns, proposal.right_columns,
                                     current[proposal.left_table], current[proposal.right_table])
        scored = score(proposal, result.measurement if result else None)
        stats = _stats(result, scored, self._deps)
        status = CandidateStatus.OPEN
        assumptions = scored.assumptions
        if stored is not None and stored.rejection is not None and stored.status is CandidateStatus.REJECTED:
            same = stored.rejection.fingerprint == scored.fingerprint
            if same or result is None:  # without fresh data nothing can have changed
                status = CandidateStatus.REJECTED
            else:
                assumptions = (*assumptions, f"rejected before ({stored.rejection.category.value}: "
                                             f"{stored.rejection.reason}); suggested again because the "
                                             "evidence changed")
        now = self._deps.clock()
        return CandidateRecord(
            id=proposal.id, left_table=proposal.left_table, left_columns=proposal.left_columns,
            right_table=proposal.right_table, right_columns=proposal.right_columns, condition=proposal.condition,
            join_type=scored.join_type, confidence=scored.confidence, risk_level=RiskLevel(scored.risk),
            reason=scored.reason, assumptions=assumptions,
            evidence=tuple(EvidenceRecord(e.kind.value, e.detail, round(evidence_weight(e), 3))
                           for e in scored.evidence),
            validation_stats=stats, fingerprint=scored.fingerprint if result or stored is None else stored.fingerprint,
            status=status, first_seen_at=stored.first_seen_at if stored else now, last_seen_at=now,
            rejection=stored.rejection if stored else None)

    async def _measure(self, left_columns: Sequence[str], right_columns: Sequence[str],
                       left: VersionRecord, right: VersionRecord) -> JoinStats | None:
        try:
            result = await measure_join(self._deps.warehouse, _side(left, left_columns), _side(right, right_columns),
                                        sample_size=self._sample_size)
        except GatewayError as error:  # a type clash or an unreachable warehouse: score without data
            log.info("join validation failed: %s", error.message)
            metrics.JOIN_VALIDATIONS.labels(result="failed").inc()
            return None
        flagged = score(JoinProposal(left.table, tuple(left_columns), right.table, tuple(right_columns)),
                        result.measurement).flags
        metrics.JOIN_VALIDATIONS.labels(result="flagged" if flagged else "ok").inc()
        return result

    # --- reading accepted joins ----------------------------------------------------------

    async def list_joins(self, principal: Principal, table: str | None = None,
                         include_deprecated: bool = False) -> list[JoinRecord]:
        require(principal, Capability.READ_CATALOG)
        async with self._deps.uow() as uow:
            return await uow.joins.list_joins(table=table.strip().lower() if table else None,
                                              include_deprecated=include_deprecated)

    async def get_join(self, principal: Principal, join_id_: str, version: int | None = None) -> JoinRecord:
        require(principal, Capability.READ_CATALOG)
        async with self._deps.uow() as uow:
            versions = await uow.joins.versions(join_id_.strip())
        chosen = ([v for v in versions if v.version == version] if version is not None
                  else [v for v in versions if v.state is JoinState.ACTIVE] or versions[-1:])
        if not chosen:
            raise InvalidInput(f"No accepted join {join_id_!r}" + (f" version {version}" if version else "")
                               + "; `joins` lists them.")
        return chosen[0]

    async def usage_counts(self, principal: Principal) -> dict[tuple[str, int], int]:
        """Per (join id, version): how many of the newest executed queries used it.

        Read from the query log (``query_executions.joins``), the record the planner's matching
        leaves behind; a query counts once per join version whatever number of times it joins.
        """
        require(principal, Capability.READ_CATALOG)
        async with self._deps.uow() as uow:
            executions = await uow.joins.executed_joins(USAGE_WINDOW)
        counts: Counter[tuple[str, int]] = Counter()
        for _, joins in executions:
            counts.update({(str(j["joinId"]), int(j["version"])) for j in joins
                           if isinstance(j, dict) and j.get("joinId") and j.get("version") is not None})
        return dict(counts)

    # --- decisions (ADMIN) ---------------------------------------------------------------

    async def _candidate(self, candidate_id: str) -> CandidateRecord:
        async with self._deps.uow() as uow:
            found = await uow.joins.candidate(candidate_id.strip())
        if found is None:
            raise InvalidInput(f"No join candidate {candidate_id!r}; `joinCandidates` lists the current ones.")
        return found

    async def accept(self, principal: Principal, candidate_id: str, rationale: str,
                     version: int | None = None) -> JoinRecord:
        """Accept a candidate as the next version of the join between its two tables.

        ``version``, when given, is the version this acceptance must create: a guard against
        two admins deciding at once (the loser gets CONFLICT instead of silently superseding).
        """
        require(principal, Capability.MANAGE_JOINS)
        why = _text(rationale, "rationale")
        candidate = await self._candidate(candidate_id)
        async with self._deps.uow() as uow:
            current = resolvable(await uow.tables.all_versions())
        missing = [t for t in candidate.tables if t not in current]
        if missing:
            raise InvalidTransition(f"{missing[0]!r} has no ACTIVE or READ_ONLY version; a join can only be "
                                    "accepted between queryable tables.")
        # Fresh statistics: what the admin accepts is what the data says now.
        measured = await measure_join(
            self._deps.warehouse, _side(current[candidate.left_table], candidate.left_columns),
            _side(current[candidate.right_table], candidate.right_columns), sample_size=self._sample_size)
        scored = score(JoinProposal(candidate.left_table, candidate.left_columns, candidate.right_table,
                                    candidate.right_columns), measured.measurement)
        metrics.JOIN_VALIDATIONS.labels(result="flagged" if scored.flags else "ok").inc()
        stats = _stats(measured, scored, self._deps)
        jid = join_id(candidate.left_table, candidate.right_table)
        now = self._deps.clock()
        async with self._deps.uow() as uow:
            versions = await uow.joins.versions(jid)
            latest = versions[-1].version if versions else 0
            if version is not None and version != latest + 1:
                raise Conflict(f"The join {jid} is at version {latest}; accepting creates version {latest + 1}, "
                               f"not {version}. Reload and decide again.", currentVersion=latest)
            previous = next((v for v in versions if v.state is JoinState.ACTIVE), None)
            key = canonical_pairs(candidate.left_table, candidate.left_columns, candidate.right_table,
                                  candidate.right_columns)
            if previous is not None and key == canonical_pairs(previous.left_table, previous.left_columns,
                                                              previous.right_table, previous.right_columns):
                raise Conflict(f"This condition is already accepted as {jid} version {previous.version}.",
                               currentVersion=previous.version)
            if previous is not None:
                await uow.joins.deprecate(jid, previous.version, actor=principal.email,
                                          reason=f"superseded by version {latest + 1}", at=now)
            record = JoinRecord(
                id=jid, version=latest + 1, state=JoinState.ACTIVE, left_table=candidate.left_table,
                left_columns=candidate.left_columns, right_table=candidate.right_table,
                right_columns=candidate.right_columns, condition=candidate.condition,
                join_type=scored.join_type, candidate_id=candidate.id, accepted_by=principal.email,
                accepted_at=now, rationale=why, validation_stats=stats,
                supersedes=previous.version if previous else None)
            await uow.joins.add_version(record)
            await uow.joins.set_candidate_status(candidate.id, CandidateStatus.ACCEPTED)
            await audit(uow, principal, "acceptJoin", "join", f"{jid}@{record.version}", now,
                        before={"version": previous.version, "condition": previous.condition} if previous else None,
                        after={"version": record.version, "condition": record.condition,
                               "candidateId": candidate.id, "rationale": why,
                               "cardinality": stats.cardinality if stats else None})
            await uow.system.bump_epoch()
            await uow.commit()
        return record

    async def reject(self, principal: Principal, candidate_id: str, reason: str,
                     category: RejectionCategory | None = None) -> CandidateRecord:
        require(principal, Capability.MANAGE_JOINS)
        why = _text(reason, "reason")
        candidate = await self._candidate(candidate_id)
        chosen = category or infer_category(candidate)
        now = self._deps.clock()
        rejection = RejectionRecord(candidate.id, chosen, why, candidate.fingerprint, principal.email, now)
        async with self._deps.uow() as uow:
            if candidate.status is CandidateStatus.ACCEPTED and any(
                    j.candidate_id == candidate.id for j in await uow.joins.active()):
                raise InvalidTransition("This candidate is an accepted join; deprecate the join instead.")
            await uow.joins.add_rejection(rejection)
            await uow.joins.set_candidate_status(candidate.id, CandidateStatus.REJECTED)
            await audit(uow, principal, "rejectJoinCandidate", "join_candidate", candidate.id, now,
                        before={"status": candidate.status.value},
                        after={"status": "REJECTED", "category": chosen.value, "reason": why,
                               "condition": candidate.condition})
            await uow.commit()
        metrics.JOIN_CANDIDATE_REJECTED.labels(reason=chosen.value).inc()
        return replace(candidate, status=CandidateStatus.REJECTED, rejection=rejection)

    async def deprecate(self, principal: Principal, join_id_: str, reason: str) -> JoinRecord:
        require(principal, Capability.MANAGE_JOINS)
        why = _text(reason, "reason")
        jid = join_id_.strip()
        now = self._deps.clock()
        async with self._deps.uow() as uow:
            versions = await uow.joins.versions(jid)
            if not versions:
                raise InvalidInput(f"No accepted join {jid!r}; `joins(includeDeprecated: true)` lists them.")
            active = next((v for v in versions if v.state is JoinState.ACTIVE), None)
            if active is None or not await uow.joins.deprecate(jid, active.version, actor=principal.email,
                                                               reason=why, at=now):
                raise InvalidTransition(f"The join {jid} has no ACTIVE version; it is already deprecated.")
            await audit(uow, principal, "deprecateJoin", "join", f"{jid}@{active.version}", now,
                        before={"state": "ACTIVE"}, after={"state": "DEPRECATED", "reason": why})
            await uow.system.bump_epoch()
            await uow.commit()
        return replace(active, state=JoinState.DEPRECATED, deprecated_at=now, deprecated_by=principal.email,
                       deprecation_reason=why)
