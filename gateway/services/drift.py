"""Schema drift in the gateway: refresh a table's schema, check a proposal, diff contract
versions, list and resolve stored reports. The promotion gate lives in ``drift_gate``.

Every detection with changes is stored as a report, audited and counted
(``spyne_drift_detected_total{contract_id,severity}``); compatibility checks are dry runs and
store nothing. Who may read a report follows the catalog: a report naming a version the
caller may not see (SHADOW, for roles below ENGINEER) is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway import metrics
from gateway.domain import Capability, TableState, can_see_state
from gateway.drift_records import DriftReportRecord, DriftSource
from gateway.errors import Conflict, InvalidInput, TableNotFound
from gateway.ingestion_records import ContractRecord, ContractVersionRecord
from gateway.records import ColumnStatistics, Principal, TableRecord
from gateway.services.access import require
from gateway.services.base import ServiceDeps, audit
from gateway.services.drift_measure import (
    as_contract_would,
    contract_specs,
    diff,
    needs_values,
    rename_sides,
    specs_of,
    undecided,
    with_stats,
)
from gateway.services.drift_reports import (
    in_use_versions,
    may_see,
    new_report,
    store_report,
    unsaved,
)
from gateway.services.events import drift_event
from gateway.services.statistics import audited, measure_statistics
from gateway.services.visibility import resolved_version
from gateway.warehouse.column_stats import measure_exact, sample_fingerprints
from planner.drift import (
    ColumnSpec,
    ColumnStats,
    DriftSeverity,
    SchemaDiff,
    SchemaVersion,
    migration_guide,
    next_version,
)
from planner.drift import check_compatibility as check_history

MAX_REPORTS = 500


@dataclass(frozen=True, slots=True)
class Compatibility:
    """The answer of a dry run: what a proposal changes, against which versions, how badly."""

    diff: SchemaDiff
    migration_guide: str
    next_version: str | None
    version_rule: str | None

    @property
    def compatible(self) -> bool:
        return self.diff.severity is not DriftSeverity.BREAKING


@dataclass(frozen=True, slots=True)
class ContractDiff:
    contract_id: str
    from_version: int
    to_version: int
    diff: SchemaDiff
    migration_guide: str
    next_version: str
    version_rule: str


class DriftService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    # --- refreshSchema -------------------------------------------------------------------

    async def refresh_schema(self, principal: Principal, table: str) -> DriftReportRecord:
        require(principal, Capability.REFRESH_SCHEMA)
        async with self._deps.uow() as uow:
            record = await uow.tables.get(table.strip().lower())
            target = resolved_version(record) if record else None
            if record is None or target is None:
                raise TableNotFound(f"No queryable table named {table!r}; `tables` lists them.")
            baseline = await uow.drift.baseline(record.name, target.version)
        warehouse = self._deps.warehouse
        found = await warehouse.introspect(target.physical_name)
        statistics = await measure_statistics(warehouse, target.physical_name, found.columns, found.row_count,
                                              self._deps.clock())
        dialect = warehouse.dialect
        values = await sample_fingerprints(warehouse, target.physical_name, [c.name for c in found.columns])
        old = with_stats(specs_of(target.columns), {
            k: _fp(v) for k, v in baseline.items()})
        new = specs_of(found.columns)
        first = diff(old, new, dialect)
        exact_needed = undecided(first, dialect)
        exact = await measure_exact(warehouse, target.physical_name,
                                    {new_name: m for new_name, m in exact_needed.values()})
        old = with_stats(old, {o: exact[n] for o, (n, _) in exact_needed.items() if n in exact})
        new = with_stats(new, exact)
        if needs_values(first):
            _, added = rename_sides(first)
            new = with_stats(new, {n: values[n] for n in added if n in values})
        result = diff(old, new, dialect) if exact or needs_values(first) else first
        schema, rule = next_version(target.schema_version, result)
        now = self._deps.clock()
        report = new_report(table=record.name, contract_id=None, source=DriftSource.REFRESH,
                            from_version=target.version, to_version=target.version,
                            from_schema=target.schema_version, to_schema=schema, result=result,
                            rule=rule, actor=principal.email, at=now)
        async with self._deps.uow() as uow:
            current = await uow.tables.get(record.name)
            again = current.version(target.version) if current else None
            if again is None or again.updated_at != target.updated_at:
                raise Conflict(f"{record.name} v{target.version} changed while it was being refreshed; "
                               "refresh again.")
            await uow.drift.save_baseline(record.name, target.version,
                                          {k: list(v.fingerprint or ()) for k, v in values.items()}, now)
            saved: DriftReportRecord | None = None
            if result.changes:
                await uow.tables.update_schema(record.name, target.version, found.columns,
                                               found.foreign_keys, found.row_count, schema, now)
                saved = await store_report(uow, principal, report)
            # The version's measured figures are taken again on every refresh, changes or not.
            remeasured = (found.row_count != target.row_count
                          or (statistics is not None and _counts(statistics) != _counts(target.statistics)))
            if remeasured:
                await uow.tables.update_statistics(record.name, target.version, found.row_count, statistics, now)
            if result.changes or remeasured:
                await uow.system.bump_epoch()
            await audit(uow, principal, "refreshSchema", "table", record.name, now,
                        before={"version": target.version, "schemaVersion": target.schema_version,
                                "columns": len(target.columns), "rowCount": target.row_count,
                                "statistics": audited(target.statistics)},
                        after={"schemaVersion": schema, "columns": len(found.columns),
                               "severity": result.severity.value, "changes": len(result.changes),
                               "reportId": saved.id if saved else None, "rowCount": found.row_count,
                               "statistics": audited(statistics or target.statistics)})
            await uow.commit()
        if saved is None:
            return unsaved(report)
        self._publish(saved, frozenset({target.state}))
        return saved

    # --- dry runs ------------------------------------------------------------------------

    async def check_table_compatibility(self, principal: Principal, table: str,
                                        columns: Sequence[ColumnSpec],
                                        dialect: str | None = None) -> Compatibility:
        require(principal, Capability.CHECK_COMPATIBILITY)
        async with self._deps.uow() as uow:
            record = await uow.tables.get(table.strip().lower())
        if record is None or not any(can_see_state(principal.role, v.state) for v in record.versions):
            raise TableNotFound(f"No table named {table!r}; `tables` lists them.")
        in_use = in_use_versions(record)
        latest = max(record.versions, key=lambda v: v.version)
        history = [(f"v{v.version}", specs_of(v.columns)) for v in in_use or (latest,)]
        return compatibility_of(record.name, history, columns, dialect or self._deps.warehouse.dialect,
                              latest.schema_version)

    async def check_compatibility(self, principal: Principal, contract_id: str,
                                  columns: Sequence[ColumnSpec],
                                  dialect: str | None = None) -> Compatibility:
        require(principal, Capability.CHECK_COMPATIBILITY)
        async with self._deps.uow() as uow:
            contract = await uow.ingestion.get_contract(contract_id.strip().lower())
            table = await uow.tables.get(contract.table) if contract else None
        if contract is None:
            raise InvalidInput(f"No contract {contract_id!r}; `contracts` lists them.")
        # Every contract version whose table version is still read, and the latest one.
        versions = [cv for cv in contract.versions
                    if (tv := table.version(cv.version) if table else None) is not None
                    and tv.state is not TableState.SHADOW] if table else []
        if contract.latest not in versions:
            versions.append(contract.latest)
        history = [(f"v{cv.version}", contract_specs(cv.columns)) for cv in versions]
        latest = table.version(contract.latest.version) if table else None
        proposed = list(columns) if dialect else as_contract_would(columns)
        return compatibility_of(contract.table, history, proposed, dialect,
                              latest.schema_version if latest else f"{contract.latest.version}.0")

    # --- contractDiff --------------------------------------------------------------------

    async def contract_diff(self, principal: Principal, contract_id: str, from_version: int,
                            to_version: int) -> ContractDiff:
        require(principal, Capability.READ_CATALOG)
        async with self._deps.uow() as uow:
            contract = await uow.ingestion.get_contract(contract_id.strip().lower())
            table = await uow.tables.get(contract.table) if contract else None
        if contract is None:
            raise InvalidInput(f"No contract {contract_id!r}; `contracts` lists them.")
        old = _contract_version(principal, contract, table, from_version)
        new = _contract_version(principal, contract, table, to_version)
        result = diff(contract_specs(old.columns), contract_specs(new.columns), None)
        base = table.version(from_version) if table else None
        version, rule = next_version(base.schema_version if base else f"{from_version}.0", result)
        return ContractDiff(contract.id, from_version, to_version, result,
                            migration_guide(result, contract.table), version, rule)

    # --- reports -------------------------------------------------------------------------

    async def reports(self, principal: Principal, *, table: str | None = None,
                      contract_id: str | None = None, severity: DriftSeverity | None = None,
                      unresolved_only: bool = False, first: int = 100) -> list[DriftReportRecord]:
        require(principal, Capability.READ_CATALOG)
        if not 1 <= first <= MAX_REPORTS:
            raise InvalidInput(f"`first` must be between 1 and {MAX_REPORTS}.")
        async with self._deps.uow() as uow:
            found = await uow.drift.list(
                table=table.strip().lower() if table else None,
                contract_id=contract_id.strip().lower() if contract_id else None,
                severities=[severity.value] if severity else None, unresolved_only=unresolved_only,
                limit=first)
            tables = {name: await uow.tables.get(name) for name in {r.table for r in found}}
        return [r for r in found if may_see(principal.role, tables[r.table], r)]

    async def resolve(self, principal: Principal, report_id: int, note: str | None) -> DriftReportRecord:
        require(principal, Capability.RESOLVE_DRIFT)
        now = self._deps.clock()
        async with self._deps.uow() as uow:
            report = await uow.drift.get(report_id)
            if report is None:
                raise InvalidInput(f"No drift report {report_id}; `driftReports` lists them.")
            if report.resolved_at is not None or not await uow.drift.resolve(
                    report_id, principal.email, note, now):
                raise Conflict(f"Drift report {report_id} is already resolved.")
            await audit(uow, principal, "resolveDrift", "drift_report", str(report_id), now,
                        before={"resolved": False}, after={"resolved": True, "note": note})
            await uow.commit()
            resolved = await uow.drift.get(report_id)
        metrics.DRIFT_RESOLVED.labels(contract_id=report.contract_id or "none").inc()
        assert resolved is not None
        return resolved

    def _publish(self, report: DriftReportRecord, states: frozenset[TableState]) -> None:
        assert report.id is not None
        self._deps.events.publish(drift_event(
            table=report.table, contract_id=report.contract_id, severity=report.severity,
            report_id=report.id, changes=len(report.changes), at=report.detected_at, states=states))


def _counts(statistics: ColumnStatistics | None) -> tuple[tuple[str, int], ...] | None:
    return statistics.distinct if statistics is not None else None


def _fp(values: list[int]) -> ColumnStats:
    return ColumnStats(fingerprint=tuple(values))


def compatibility_of(table: str, history: list[tuple[str, list[ColumnSpec]]],
                   proposed: Sequence[ColumnSpec], dialect: str | None, current: str) -> Compatibility:
    result = check_history([SchemaVersion(label, tuple(cols)) for label, cols in history],
                                 list(proposed), dialect=dialect)
    latest = history[-1][0]
    against_latest = SchemaDiff.of(tuple(c for c in result.changes if c.version == latest))
    version, rule = next_version(current, against_latest)
    return Compatibility(result, migration_guide(result, table), version, rule)


def _contract_version(principal: Principal, contract: ContractRecord, table: TableRecord | None,
                      number: int) -> ContractVersionRecord:
    found = next((cv for cv in contract.versions if cv.version == number), None)
    tv = table.version(number) if table and found else None
    if found is None or (tv is not None and not can_see_state(principal.role, tv.state)):
        known = ", ".join(str(cv.version) for cv in contract.versions
                          if not (table and (t := table.version(cv.version))
                                  and not can_see_state(principal.role, t.state)))
        raise InvalidInput(f"Contract {contract.id} has no version {number} (it has {known}).")
    return found

