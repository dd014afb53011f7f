"""Registering data contracts and reading them back, with their freshness.

Registering validates the semantics (``contract_rules``), then creates the next version of the
logical table as SHADOW, physically isolated (``warehouse.naming``), with the contract's
columns: contract version N describes table version N. Promotion, elsewhere, never copies data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway import metrics
from gateway.domain import STATE_PROPERTIES, Capability, SystemMode, TableState, can_see_state
from gateway.errors import Conflict, InvalidInput
from gateway.ingestion_records import ContractRecord, ContractVersionRecord, Sla
from gateway.records import ColumnInfo, Principal, StateChange, VersionRecord
from gateway.services.access import require, require_mode
from gateway.services.base import ServiceDeps, audit, aware
from gateway.services.contract_rules import validate_contract
from gateway.services.drift_reports import publish as publish_drift
from gateway.services.drift_reports import record_contract_drift
from gateway.store.unit_of_work import UnitOfWork
from gateway.warehouse.contract import Capability as WarehouseCapability
from gateway.warehouse.ingest_tables import IngestTables, TargetColumn
from gateway.warehouse.naming import shadow_physical_name


@dataclass(frozen=True, slots=True)
class Freshness:
    newest_event_time: datetime | None
    lag_seconds: float | None
    status: str  # UNKNOWN, OK, WARNING, BREACHED
    breached: bool


@dataclass(frozen=True, slots=True)
class ContractVersionView:
    record: ContractVersionRecord
    state: TableState | None
    physical_name: str | None  # only for callers who may see the version's state


@dataclass(frozen=True, slots=True)
class ContractView:
    id: str
    table: str
    created_at: datetime
    current: ContractVersionView
    versions: tuple[ContractVersionView, ...]
    freshness: Freshness


DEFAULT_SLA_SECONDS = 3600  # what the lag alert assumes for a contract without maxLagSeconds
GAUGE_REFRESH_SECONDS = 10.0


def sla_seconds(sla: Sla | None) -> int:
    return sla.max_lag_seconds if sla is not None else DEFAULT_SLA_SECONDS


def freshness(newest: datetime | None, sla: Sla | None, now: datetime) -> Freshness:
    if newest is None:
        return Freshness(None, None, "UNKNOWN", False)
    lag = max(0.0, (now - aware(newest)).total_seconds())
    status = "OK"
    if sla is not None:
        if lag > sla.max_lag_seconds:
            status = "BREACHED"
        elif sla.alert_threshold_seconds is not None and lag > sla.alert_threshold_seconds:
            status = "WARNING"
    return Freshness(aware(newest), lag, status, status == "BREACHED")


async def current_mode(uow: UnitOfWork) -> SystemMode:
    return await uow.system.mode() or SystemMode.READ_ONLY


async def check_mode(uow: UnitOfWork, capability: Capability) -> None:
    require_mode(capability, await current_mode(uow))


class ContractsService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
        self.tables = IngestTables(deps.warehouse.engine, deps.warehouse.backend)
        self._gauges_at = float("-inf")

    async def register(self, principal: Principal, data: dict[str, Any]) -> ContractView:
        require(principal, Capability.CREATE_CONTRACT)
        self._deps.warehouse.require(WarehouseCapability.INGESTION)
        async with self._deps.uow() as uow:
            await check_mode(uow, Capability.CREATE_CONTRACT)
        spec = validate_contract(data)
        now = self._deps.clock()
        async with self._deps.uow() as uow:
            table = await uow.tables.get(spec.table)
            version = max((v.version for v in table.versions), default=0) + 1 if table else 1
            physical = shadow_physical_name(spec.table, version, self._deps.warehouse.backend)
            if await uow.tables.physical_name_taken(physical):
                raise Conflict(f"{spec.table} v{version} is already being registered; reload and retry.")
            columns = [TargetColumn(c.name, c.type, c.nullable) for c in spec.columns]
            await self._deps.warehouse.run(self.tables.ensure_bookkeeping)
            await self._deps.warehouse.run(lambda: self.tables.create_target(
                physical, columns, spec.semantics.idempotency_key, spec.semantics.mode == "upsert"))
            try:
                # Drift against the previous contract version: stored, and it numbers this one.
                drift, schema_version = await record_contract_drift(
                    uow, principal, await uow.ingestion.get_contract(spec.table), table, version,
                    spec.columns, now)
                if table is None:
                    await uow.tables.create(spec.table, spec.description, now)
                await uow.tables.add_version(VersionRecord(
                    table=spec.table, version=version, state=TableState.SHADOW, physical_name=physical,
                    columns=tuple(ColumnInfo(c.name, c.type, c.nullable and c.name not in
                                             spec.semantics.idempotency_key, False, c.default)
                                  for c in spec.columns),
                    row_count=0, owner=principal.email, supersedes=None, schema_version=schema_version,
                    created_at=now, updated_at=now, deprecated_at=None))
                await uow.tables.record_state_change(StateChange(
                    table=spec.table, version=version, from_state=None, to_state=TableState.SHADOW,
                    transition="REGISTER_CONTRACT", actor=principal.email, reason=None, at=now))
                await uow.ingestion.add_contract_version(spec.table, version, spec, principal.email, now)
                await audit(uow, principal, "registerContract", "contract", spec.table, now, before=None,
                            after={"version": version, "physicalName": physical,
                                   "semantics": spec.semantics.as_json(), "warnings": list(spec.warnings)})
                await uow.system.bump_epoch()
                await uow.commit()
            except BaseException:
                # The catalog did not take it: the empty warehouse table must not linger.
                await self._deps.warehouse.run(lambda: self.tables.drop_target(physical))
                raise
        metrics.INGESTION_SLA_SECONDS.labels(contract_id=spec.table).set(sla_seconds(spec.sla))
        publish_drift(self._deps.events, drift, {TableState.SHADOW})
        return await self.get(principal, spec.table)

    async def list(self, principal: Principal) -> list[ContractView]:
        require(principal, Capability.READ_CATALOG)
        async with self._deps.uow() as uow:
            records = await uow.ingestion.list_contracts()
            views = [await self._view(uow, principal, r) for r in records]
        return [v for v in views if v is not None]

    async def get(self, principal: Principal, contract_id: str) -> ContractView:
        require(principal, Capability.READ_CATALOG)
        async with self._deps.uow() as uow:
            record = await uow.ingestion.get_contract(contract_id.strip().lower())
            view = await self._view(uow, principal, record) if record else None
        if view is None:
            raise InvalidInput(f"No contract {contract_id!r}; `contracts` lists the ones you can see.")
        return view

    async def refresh_gauges(self, force: bool = False) -> None:
        """Every contract's SLA and current lag into the gauges (at start-up, and before a scrape).

        The lag keeps growing while a producer is silent, so it is recomputed from the catalog
        here rather than only when rows arrive; at most once per ``GAUGE_REFRESH_SECONDS``.
        """
        if not force and time.monotonic() - self._gauges_at < GAUGE_REFRESH_SECONDS:
            return
        self._gauges_at = time.monotonic()
        async with self._deps.uow() as uow:
            records = await uow.ingestion.list_contracts()
        now = self._deps.clock()
        for record in records:
            sla = record.latest.sla
            metrics.INGESTION_SLA_SECONDS.labels(contract_id=record.id).set(sla_seconds(sla))
            lag = freshness(record.newest_event_time, sla, now).lag_seconds
            if lag is not None:
                metrics.INGESTION_LAG_SECONDS.labels(contract_id=record.id).set(lag)

    async def _view(self, uow: UnitOfWork, principal: Principal, record: ContractRecord) -> ContractView | None:
        table = await uow.tables.get(record.table)
        versions: list[ContractVersionView] = []
        for cv in record.versions:
            tv = table.version(cv.version) if table else None
            if tv is not None and not can_see_state(principal.role, tv.state):
                continue  # the same rule as the catalog: SHADOW is for engineers and up
            versions.append(ContractVersionView(cv, tv.state if tv else None, tv.physical_name if tv else None))
        if not versions:
            return None
        current = versions[-1]
        fresh = freshness(record.newest_event_time, current.record.sla, self._deps.clock())
        metrics.INGESTION_SLA_SECONDS.labels(contract_id=record.id).set(sla_seconds(record.latest.sla))
        if fresh.lag_seconds is not None:
            metrics.INGESTION_LAG_SECONDS.labels(contract_id=record.id).set(fresh.lag_seconds)
        return ContractView(record.id, record.table, aware(record.created_at), current, tuple(versions), fresh)


def writable(state: TableState) -> bool:
    return STATE_PROPERTIES[state].writable
