"""Building, storing and showing drift reports: shared by the drift service and the gate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from gateway import metrics
from gateway.domain import Role, TableState, can_see_state
from gateway.drift_records import DriftReportRecord, DriftSource, NewDriftReport
from gateway.ingestion_records import ContractColumn, ContractRecord
from gateway.records import Principal, TableRecord, VersionRecord
from gateway.services.base import audit
from gateway.services.drift_measure import contract_specs, diff, fingerprint, stored
from gateway.services.events import EventBus, drift_event
from gateway.store.unit_of_work import UnitOfWork
from planner.drift import SchemaDiff, migration_guide, next_version


def new_report(*, table: str, contract_id: str | None, source: DriftSource, from_version: int | None,
               to_version: int | None, from_schema: str | None, to_schema: str | None,
               result: SchemaDiff, rule: str | None, actor: str, at: datetime) -> NewDriftReport:
    changes = tuple(stored(c) for c in result.changes)
    return NewDriftReport(
        table=table, contract_id=contract_id, source=source, from_version=from_version,
        to_version=to_version, from_schema_version=from_schema, to_schema_version=to_schema,
        changes=changes, severity=result.severity.value,
        migration_guide=migration_guide(result, table), version_rule=rule, detected_by=actor,
        detected_at=at,
        fingerprint=fingerprint(table, contract_id, source.value, from_version, to_version,
                                from_schema, to_schema, [c.as_json() for c in changes]))


async def store_report(uow: UnitOfWork, principal: Principal, report: NewDriftReport) -> DriftReportRecord:
    """Store (once: a repeat of an open detection returns the stored one), audit and count."""
    existing = await uow.drift.open_with_fingerprint(report.fingerprint)
    if existing is not None:
        return existing
    record = await uow.drift.add(report)
    await audit(uow, principal, "detectDrift", "drift_report", str(record.id), report.detected_at,
                after={"table": report.table, "contractId": report.contract_id,
                       "source": report.source.value, "severity": report.severity,
                       "changes": len(report.changes), "fromVersion": report.from_version,
                       "toVersion": report.to_version})
    metrics.DRIFT_DETECTED.labels(contract_id=report.contract_id or "none",
                                  severity=report.severity).inc()
    return record


def unsaved(report: NewDriftReport) -> DriftReportRecord:
    return DriftReportRecord(
        id=None, table=report.table, contract_id=report.contract_id, source=report.source,
        from_version=report.from_version, to_version=report.to_version,
        from_schema_version=report.from_schema_version, to_schema_version=report.to_schema_version,
        changes=report.changes, severity=report.severity, migration_guide=report.migration_guide,
        version_rule=report.version_rule, detected_by=report.detected_by,
        detected_at=report.detected_at, resolved_at=None, resolved_by=None, note=None)


def report_states(table: TableRecord | None, report: DriftReportRecord) -> frozenset[TableState]:
    if table is None:
        return frozenset()
    versions = (table.version(n) for n in (report.from_version, report.to_version) if n is not None)
    return frozenset(v.state for v in versions if v is not None)


def may_see(role: Role, table: TableRecord | None, report: DriftReportRecord) -> bool:
    if table is None or not any(can_see_state(role, v.state) for v in table.versions):
        return False
    return all(can_see_state(role, s) for s in report_states(table, report))


def in_use_versions(record: TableRecord, *, besides: int | None = None) -> list[VersionRecord]:
    """Versions queries still read (unpinned or pinned): every one that is not SHADOW."""
    return [v for v in record.versions if v.state is not TableState.SHADOW and v.version != besides]


async def record_contract_drift(uow: UnitOfWork, principal: Principal, contract: ContractRecord | None,
                                table: TableRecord | None, to_version: int,
                                columns: Sequence[ContractColumn], at: datetime
                                ) -> tuple[DriftReportRecord | None, str]:
    """The hook ``registerContract`` calls inside its unit of work, before adding the version.

    Diffs the new contract version against the previous one, stores a ``CONTRACT`` report when
    anything changed, and returns it with the schema version the new table version should carry
    (the bump rule applied to the previous version's): the promotion gate reads that number.
    """
    if contract is None or not contract.versions:
        return None, f"{to_version}.0"
    previous = contract.latest
    before = table.version(previous.version) if table else None
    base = before.schema_version if before else f"{previous.version}.0"
    result = diff(contract_specs(previous.columns), contract_specs(columns), None)
    schema, rule = next_version(base, result)
    if not result.changes:
        return None, schema
    report = await store_report(uow, principal, new_report(
        table=contract.table, contract_id=contract.id, source=DriftSource.CONTRACT,
        from_version=previous.version, to_version=to_version, from_schema=base, to_schema=schema,
        result=result, rule=rule, actor=principal.email, at=at))
    return report, schema


def publish(events: EventBus, report: DriftReportRecord | None, states: Iterable[TableState]) -> None:
    """Tell live subscribers of a stored report; call after the commit that stored it."""
    if report is None or report.id is None:
        return
    events.publish(drift_event(table=report.table, contract_id=report.contract_id,
                               severity=report.severity, report_id=report.id,
                               changes=len(report.changes), at=report.detected_at, states=states))
