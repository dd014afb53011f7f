"""The query trust layer: plan and store previews, validate, correct, and run exactly a preview.

Nothing reaches the warehouse but the SQL of a stored preview (or, for automation, a plan made
in the same call with an explicit, audited ``skipPreview`` reason). Before running, the tables a
preview used must still resolve to the same versions in the same states, the caller must still
be allowed to reach them, and every guardrail that needs an override must be listed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from gateway import metrics
from gateway.domain import Capability, TableState, can_see_state, has_capability, resolved_version_number
from gateway.errors import (
    GatewayError,
    GuardrailBlocked,
    InvalidInput,
    StalePreview,
    Timeout,
)
from gateway.records import Principal
from gateway.services.access import require
from gateway.services.base import ServiceDeps, audit, aware
from gateway.services.catalog import CatalogService
from gateway.services.query_codec import json_rows, plan_from_json, plan_to_json
from gateway.services.recent_previews import RecentPreviews, own_preview
from gateway.store.batching import GroupCommit
from gateway.store.queries import NewExecution, StoredPreview, insert_query_records
from planner import (
    Correction,
    Explanation,
    Pin,
    Plan,
    PlanCache,
    PlannerError,
    PlanOptions,
    StructuredQuery,
    apply_corrections,
    build_structured,
    explain,
    plan,
    with_warehouse_estimate,
)
from planner.capabilities.bounds import DEFAULT_BOUNDS, FunctionBounds
from planner.catalog import CatalogSnapshot
from planner.diagnostics import Diagnostic, error_diagnostics, guardrail_diagnostics

# Planning a long query is CPU work: above this size it runs in a worker thread.
INLINE_PLANNING_LIMIT = 4_000


@dataclass(frozen=True, slots=True)
class Preview:
    id: str
    author: str
    plan: Plan
    pins: tuple[Pin, ...]
    parent_id: str | None
    created_at: datetime
    expires_at: datetime
    shows_physical: frozenset[str]  # logical tables whose physical names this caller may see
    stored: bool = True  # False only while the catalog is down: such a preview cannot run
    catalog_stale: bool = False

    @property
    def requires_confirmation(self) -> bool:
        return bool(self.plan.guardrails)


@dataclass(frozen=True, slots=True)
class CachedPlan:
    plan: Plan
    # The plan as a stored preview keeps it, encoded once per plan rather than per preview.
    # Shared by every preview of this plan: never mutated.
    stored_form: dict[str, Any]


@dataclass(frozen=True, slots=True)
class QueryResult:
    execution_id: int
    preview_id: str
    columns: tuple[tuple[str, str], ...]
    rows: list[list[object]]
    row_count: int
    truncated: bool
    elapsed_ms: float
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class Validation:
    valid: bool
    warnings: tuple[object, ...]
    errors: tuple[PlannerError, ...]
    diagnostics: tuple[Diagnostic, ...] = ()


class QueryService:
    def __init__(self, deps: ServiceDeps, catalog: CatalogService, *, max_rows: int,
                 preview_ttl_seconds: int = 3600, function_bounds: FunctionBounds = DEFAULT_BOUNDS) -> None:
        self._deps = deps
        self._function_bounds = function_bounds
        self._catalog = catalog
        self._max_rows = max_rows
        self._ttl = timedelta(seconds=preview_ttl_seconds)
        self.cache: PlanCache[CachedPlan] = PlanCache(maxsize=2048)
        self._recent = RecentPreviews(maxsize=2048)
        # Previews and execution records that arrive together are committed together.
        self._query_log: GroupCommit[StoredPreview | NewExecution, int | None] = GroupCommit(
            deps.uow, insert_query_records)

    # --- planning ------------------------------------------------------------------------

    def plan_options(self, principal: Principal, dialect: str | None, pins: Sequence[Pin] = ()) -> PlanOptions:
        """What this caller's plans may reach; every reading of the catalog on a caller's behalf uses it."""
        return PlanOptions(warehouse_dialect=self._deps.warehouse.dialect, dialect=dialect or None,
                           pins=tuple(pins), may_view_shadow=has_capability(principal.role, Capability.VIEW_SHADOW),
                           max_rows=self._max_rows, function_bounds=self._function_bounds)

    async def _plan(self, sql: str, options: PlanOptions,
                    against: tuple[CatalogSnapshot, bool] | None = None) -> tuple[CachedPlan, CatalogSnapshot, bool]:
        snapshot, stale = against or await self._catalog.snapshot_or_stale()
        cached = self.cache.get(sql, options, snapshot.epoch)
        if cached is not None:
            return cached, snapshot, stale
        started = time.perf_counter()
        if len(sql) > INLINE_PLANNING_LIMIT:
            result = await asyncio.to_thread(plan, sql, snapshot, options)
        else:
            result = plan(sql, snapshot, options)
        metrics.QUERY_LATENCY.labels(phase="plan").observe(time.perf_counter() - started)
        # The warehouse's own estimate is taken once per plan and cached with it (until the
        # catalog epoch moves), not re-asked on every preview of a cached plan.
        result = await self._with_warehouse_estimate(result)
        cached = CachedPlan(result, plan_to_json(result))
        self.cache.put(sql, options, snapshot.epoch, cached)
        return cached, snapshot, stale

    async def _with_warehouse_estimate(self, planned: Plan) -> Plan:
        rows = await self._deps.warehouse.explain_rows(planned.sql)
        return planned if rows is None else with_warehouse_estimate(planned, rows)

    async def preview(self, principal: Principal, sql: str, *, dialect: str | None = None,
                      pins: Sequence[Pin] = (), parent_id: str | None = None,
                      skip_reason: str | None = None) -> Preview:
        require(principal, Capability.QUERY)
        options = self.plan_options(principal, dialect, pins)
        planned, snapshot, stale = await self._plan(sql, options)
        return await self._store_preview(principal, sql, planned, snapshot, stale, pins, parent_id, skip_reason)

    async def preview_structured(self, principal: Principal, query: StructuredQuery, *, dialect: str | None = None,
                                 pins: Sequence[Pin] = ()) -> Preview:
        """Build the SQL of a structured query, then preview it like any SQL: it is the ``originalSql``.

        The joins are chosen and planned on one snapshot, so they are the accepted joins of that epoch.
        """
        require(principal, Capability.QUERY)
        options = self.plan_options(principal, dialect, pins)
        against = await self._catalog.snapshot_or_stale()
        sql = build_structured(query, against[0], options)
        planned, snapshot, stale = await self._plan(sql, options, against)
        return await self._store_preview(principal, sql, planned, snapshot, stale, pins, None, None)

    async def _store_preview(self, principal: Principal, sql: str, cached: CachedPlan, snapshot: CatalogSnapshot,
                             stale: bool, pins: Sequence[Pin], parent_id: str | None,
                             skip_reason: str | None) -> Preview:
        now = self._deps.clock()
        planned = cached.plan
        if stale:
            return self._unstored_preview(principal, planned, pins, now)
        stored = StoredPreview(
            id=str(uuid.uuid4()), author=principal.email, author_role=principal.role.value,
            original_sql=sql, dialect=planned.dialect, pins=tuple((p.table, p.version) for p in pins),
            plan=cached.stored_form, catalog_epoch=snapshot.epoch, parent_id=parent_id,
            skip_reason=skip_reason, created_at=now, expires_at=now + self._ttl)
        await self._query_log.submit(stored)
        self._recent.put(stored, planned)
        metrics.QUERY_PREVIEW_VIEWED.inc()
        for guardrail in planned.guardrails:
            metrics.QUERY_GUARDRAIL_TRIGGERED.labels(type=guardrail.type).inc()
        return self._preview(principal, stored, planned)

    def _unstored_preview(self, principal: Principal, planned: Plan, pins: Sequence[Pin],
                          now: datetime) -> Preview:
        note = ("The catalog is unreachable: this plan comes from the last catalog snapshot and was "
                "not stored, so it cannot be executed until the catalog is back.")
        planned = replace(planned, assumptions=(*planned.assumptions, note))
        stored = StoredPreview(
            id=f"unsaved-{uuid.uuid4()}", author=principal.email, author_role=principal.role.value,
            original_sql=planned.original_sql, dialect=planned.dialect,
            pins=tuple((p.table, p.version) for p in pins), plan={}, catalog_epoch=-1, parent_id=None,
            skip_reason=None, created_at=now, expires_at=now)
        return replace(self._preview(principal, stored, planned), stored=False, catalog_stale=True)

    def _preview(self, principal: Principal, stored: StoredPreview, planned: Plan) -> Preview:
        return Preview(
            id=stored.id, author=stored.author, plan=planned,
            pins=tuple(Pin(t, v) for t, v in stored.pins), parent_id=stored.parent_id,
            created_at=aware(stored.created_at), expires_at=aware(stored.expires_at),
            shows_physical=frozenset(t.name for t in planned.tables
                                     if can_see_state(principal.role, TableState(t.state))))

    async def get_preview(self, principal: Principal, preview_id: str) -> Preview:
        stored = await self._stored(principal, preview_id)
        metrics.QUERY_PREVIEW_VIEWED.inc()
        return self._preview(principal, stored, plan_from_json(stored.plan))

    async def _stored(self, principal: Principal, preview_id: str) -> StoredPreview:
        require(principal, Capability.QUERY)
        async with self._deps.uow() as uow:
            stored = await uow.queries.get_preview(preview_id)
        return own_preview(principal, preview_id, stored)

    async def _stored_and_snapshot(self, principal: Principal,
                                   preview_id: str) -> tuple[StoredPreview, CatalogSnapshot]:
        """The preview and the catalog as it is now (not as last polled), in one transaction."""
        require(principal, Capability.QUERY)
        async with self._deps.uow() as uow:
            stored = own_preview(principal, preview_id, await uow.queries.get_preview(preview_id))
            snapshot = await self._catalog.snapshot_in(uow)
        return stored, snapshot

    async def validate(self, principal: Principal, sql: str, dialect: str | None = None) -> Validation:
        require(principal, Capability.QUERY)
        options = self.plan_options(principal, dialect, ())
        try:
            cached, _, _ = await self._plan(sql, options)
        except PlannerError as error:
            return Validation(valid=False, warnings=(), errors=(error, *error.related),
                              diagnostics=error_diagnostics(error, sql, options.read_dialect))
        return Validation(valid=True, warnings=cached.plan.guardrails, errors=(),
                          diagnostics=guardrail_diagnostics(cached.plan, sql))

    async def correct(self, principal: Principal, preview_id: str,
                      corrections: Sequence[Correction]) -> Preview:
        require(principal, Capability.CORRECT_QUERY)
        if not corrections:
            raise InvalidInput("Give at least one correction.")
        stored = await self._stored(principal, preview_id)
        previous = plan_from_json(stored.plan)
        options = self.plan_options(principal, stored.dialect, [Pin(t, v) for t, v in stored.pins])
        corrected_sql, options = apply_corrections(previous, corrections, options)
        preview = await self.preview(principal, corrected_sql, dialect=stored.dialect, pins=options.pins,
                                     parent_id=stored.id)
        metrics.QUERY_CORRECTIONS.inc(len(corrections))
        return preview

    # --- execution -----------------------------------------------------------------------

    async def execute(self, principal: Principal, preview_id: str, overrides: Sequence[str] = ()) -> QueryResult:
        stored, planned, snapshot = await self._lookup(principal, preview_id)
        return await self._run(principal, stored, planned, overrides, snapshot)

    async def runnable(self, principal: Principal, preview_id: str,
                       overrides: Sequence[str] = ()) -> tuple[StoredPreview, Plan]:
        """The stored preview and its plan if ``principal`` may run it now with ``overrides``.

        Every check ``execute`` makes, for callers that run the plan their own way (downloads);
        a refusal is recorded as an execution and raised, exactly as ``execute`` does.
        """
        stored, planned, snapshot = await self._lookup(principal, preview_id)
        await self._check_or_refuse(principal, stored, planned, overrides, snapshot)
        return stored, planned

    async def _lookup(self, principal: Principal, preview_id: str) -> tuple[StoredPreview, Plan, CatalogSnapshot]:
        recent = self._recent.get(preview_id)
        if recent is not None:
            # A stored preview never changes: only the catalog epoch needs reading (one transaction).
            require(principal, Capability.QUERY)
            stored, planned = own_preview(principal, preview_id, recent[0]), recent[1]
            snapshot = await self._catalog.snapshot(max_age=0)
        else:
            stored, snapshot = await self._stored_and_snapshot(principal, preview_id)
            planned = plan_from_json(stored.plan)
            self._recent.put(stored, planned)
        return stored, planned, snapshot

    async def execute_without_preview(self, principal: Principal, sql: str, reason: str, *,
                                      dialect: str | None = None, pins: Sequence[Pin] = (),
                                      overrides: Sequence[str] = ()) -> QueryResult:
        """For automation: plans and runs in one call, never silently — audited and counted."""
        require(principal, Capability.SKIP_PREVIEW)
        if not reason.strip():
            raise InvalidInput("skipPreview needs a reason; it is recorded in the audit log.")
        preview = await self.preview(principal, sql, dialect=dialect, pins=pins, skip_reason=reason.strip())
        async with self._deps.uow() as uow:
            await audit(uow, principal, "skipPreview", "query", preview.id, self._deps.clock(),
                        after={"reason": reason.strip()})
            await uow.commit()
        stored, snapshot = await self._stored_and_snapshot(principal, preview.id)
        return await self._run(principal, stored, preview.plan, overrides, snapshot)

    async def _check_or_refuse(self, principal: Principal, stored: StoredPreview, planned: Plan,
                               overrides: Sequence[str], snapshot: CatalogSnapshot) -> None:
        try:
            self._check_runnable(principal, stored, planned, overrides, snapshot)
        except GatewayError as refused:
            await self._record(principal, stored, planned, overrides, status="REFUSED", error=refused)
            metrics.QUERY_EXECUTED.labels(status="refused").inc()
            raise

    async def _run(self, principal: Principal, stored: StoredPreview, planned: Plan,
                   overrides: Sequence[str], snapshot: CatalogSnapshot) -> QueryResult:
        await self._check_or_refuse(principal, stored, planned, overrides, snapshot)
        started = time.perf_counter()
        try:
            result = await self._deps.warehouse.execute_read_only(planned.sql, max_rows=planned.row_cap)
        except GatewayError as failed:
            await self._record(principal, stored, planned, overrides, status="FAILED", error=failed)
            # Timeouts are counted apart: the alert and the operator read them differently.
            metrics.QUERY_EXECUTED.labels(status="timeout" if isinstance(failed, Timeout) else "failed").inc()
            raise
        finally:
            metrics.QUERY_LATENCY.labels(phase="execute").observe(time.perf_counter() - started)
        execution_id = await self._record(principal, stored, planned, overrides, status="OK",
                                          rows=len(result.rows), elapsed_ms=result.elapsed_ms)
        metrics.QUERY_EXECUTED.labels(status="ok").inc()
        for join in planned.joins:
            if join.accepted_join_id:
                metrics.JOIN_USAGE.labels(join_id=join.accepted_join_id).inc()
        return QueryResult(
            execution_id=execution_id, preview_id=stored.id, columns=result.columns,
            rows=json_rows(result.rows), row_count=len(result.rows), truncated=result.truncated,
            elapsed_ms=result.elapsed_ms, explanation=explain(planned))

    def _check_runnable(self, principal: Principal, stored: StoredPreview, planned: Plan,
                        overrides: Sequence[str], snapshot: CatalogSnapshot) -> None:
        """``snapshot`` is the catalog as read together with the preview, not as last polled."""
        if self._deps.clock() > aware(stored.expires_at):
            raise StalePreview(f"The preview expired at {aware(stored.expires_at).isoformat()}; preview again.")
        may_view_shadow = has_capability(principal.role, Capability.VIEW_SHADOW)
        pinned = {t.lower(): v for t, v in stored.pins}
        for used in planned.tables:
            table = snapshot.table(used.name)
            current = table.version(used.version) if table else None
            if current is None or current.state != used.state:
                raise StalePreview(
                    f"{used.name} v{used.version} changed since the preview (it was {used.state}); preview again.")
            if used.name not in pinned:
                resolved = resolved_version_number((v.state, v.version) for v in table.versions)  # type: ignore[union-attr]
                if resolved != used.version:
                    raise StalePreview(f"{used.name} now resolves to v{resolved}, not v{used.version}; preview again.")
            if used.state == TableState.SHADOW.value and not may_view_shadow:
                raise StalePreview(f"You may no longer reach {used.name} v{used.version}; preview again.")
        asked = {o.upper() for o in overrides}
        if asked:
            require(principal, Capability.OVERRIDE_GUARDRAILS)
        missing = sorted(set(planned.requires_override) - asked)
        if missing:
            raise GuardrailBlocked(
                f"This query needs an explicit override for: {', '.join(missing)}. Read the preview's "
                "guardrails, then pass them in `overrides` if you mean it.", missing=missing)

    async def record_execution(self, principal: Principal, stored: StoredPreview, planned: Plan,
                               overrides: Sequence[str], *, status: str, error: GatewayError | None = None,
                               rows: int | None = None, elapsed_ms: float | None = None) -> int:
        """One execution record, as ``execute`` writes it (for runs made elsewhere: downloads)."""
        return await self._record(principal, stored, planned, overrides, status=status, error=error, rows=rows,
                                  elapsed_ms=elapsed_ms)

    async def finish_execution(self, execution_id: int, *, status: str, error_code: str | None = None,
                               rows: int | None = None, elapsed_ms: float | None = None) -> None:
        async with self._deps.uow() as uow:
            await uow.queries.finish_execution(execution_id, status=status, error_code=error_code,
                                               row_count=rows, elapsed_ms=elapsed_ms)
            await uow.commit()

    async def _record(self, principal: Principal, stored: StoredPreview, planned: Plan, overrides: Sequence[str],
                      *, status: str, error: GatewayError | None = None, rows: int | None = None,
                      elapsed_ms: float | None = None) -> int:
        execution_id = await self._query_log.submit(NewExecution(
            preview_id=stored.id, actor=principal.email, role=principal.role.value, sql=planned.sql,
            status=status, error_code=error.code if error else None, row_count=rows, elapsed_ms=elapsed_ms,
            tables=[{"name": t.name, "version": t.version, "state": t.state} for t in planned.tables],
            joins=[{"left": j.left_table, "right": j.right_table, "condition": j.condition,
                    "joinId": j.accepted_join_id, "version": j.accepted_join_version}
                   for j in planned.joins],
            overrides=sorted({o.upper() for o in overrides}), skip_reason=stored.skip_reason,
            request_id=principal.request_id, at=self._deps.clock()))
        assert execution_id is not None
        return execution_id
