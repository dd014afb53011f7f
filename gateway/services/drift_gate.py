"""The promotion gate: a SHADOW version may only become ACTIVE if readers can follow it.

The SHADOW version's columns are compared with every version still in use (READ_ONLY,
ACTIVE and DEPRECATED: queries reach the last two through pins), measured on the warehouse
where the engine needs data to decide. Against each version:

* ``BREAKING`` refuses the promotion with ``DRIFT_BREAKING`` (the changes in the message and in
  ``extensions.changes``) unless the SHADOW version's ``schemaVersion`` is a new major
  relative to that version's;
* a breaking change a new major allows is listed in the result's ``warnings``;
* ``WARNING`` needs ``acknowledgeWarnings: true``, else ``INVALID_INPUT`` with ``extensions.argument = "acknowledgeWarnings"``: the call is fine,
  it lacks the acknowledgement. A dry run answers exactly as the real call would, so a dry run
  with the acknowledgement lists the warnings.

Each detection with changes is stored as a ``PROMOTION`` report in its own unit of work (a
refused promotion still leaves its report), once: repeating a dry run does not store it again.
The gate has no caller identity, so such reports are detected by ``promotion gate``.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.domain import Role, TableState
from gateway.drift_records import DriftReportRecord, DriftSource
from gateway.errors import DriftBreaking, InvalidInput
from gateway.records import Principal, TableRecord, VersionRecord
from gateway.services.base import ServiceDeps
from gateway.services.drift_measure import (
    diff,
    needs_values,
    rename_sides,
    specs_of,
    stored,
    undecided,
    with_stats,
)
from gateway.services.drift_reports import in_use_versions, new_report, store_report
from gateway.services.events import drift_event
from gateway.store.unit_of_work import UnitOfWork
from gateway.warehouse.column_stats import measure_exact, ordered_fingerprints
from planner.drift import DriftSeverity, SchemaChange, SchemaDiff, is_new_major

GATE = Principal(email="promotion gate", role=Role.ADMIN)
MAX_LISTED = 20


class PromotionGate:
    """Callable as ``LifecycleService.promotion_gate``."""

    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    async def __call__(self, uow: UnitOfWork, record: TableRecord, target: VersionRecord,
                       acknowledge_warnings: bool) -> tuple[str, ...]:
        in_use = in_use_versions(record, besides=target.version)
        if not in_use:
            return ()
        verdicts: list[tuple[VersionRecord, SchemaDiff]] = [
            (v, await self._measured(v, target)) for v in in_use]
        changes = tuple(c for _, d in verdicts for c in d.changes)
        combined = SchemaDiff.of(changes, tuple((f"v{v.version}", d.severity) for v, d in verdicts))
        report = await self._store(record, target, in_use, combined) if changes else None
        blocking = [(v, d) for v, d in verdicts if d.severity is DriftSeverity.BREAKING
                    and not is_new_major(target.schema_version, v.schema_version)]
        if blocking:
            bad = [c for v, d in blocking for c in d.changes if c.severity is DriftSeverity.BREAKING]
            against = ", ".join(f"v{v.version} ({v.schema_version})" for v, _ in blocking)
            raise DriftBreaking(
                f"{record.name} v{target.version} (schema {target.schema_version}) breaks readers of "
                f"{against}: {_listing(bad)}. Give it a new major schema version or make the "
                "changes compatible.",
                severity="BREAKING", changes=[_json(c) for c in bad],
                reportId=str(report.id) if report else None)
        # Breaking changes a new major allows are shown; only warnings need acknowledging.
        warnings = [_warning(c) for c in changes if c.severity is DriftSeverity.WARNING]
        shown = [_warning(c) for c in changes if c.severity is DriftSeverity.BREAKING]
        if warnings and not acknowledge_warnings:
            raise InvalidInput(
                f"Promoting {record.name} v{target.version} has {len(warnings)} drift warning(s): "
                f"{'; '.join(warnings[:MAX_LISTED])}. Read them and promote again with "
                "`acknowledgeWarnings: true`.",
                argument="acknowledgeWarnings", severity=combined.severity.value,
                changes=[_json(c) for c in changes if c.severity is DriftSeverity.WARNING],
                reportId=str(report.id) if report else None)
        return tuple(shown + warnings)

    async def _measured(self, old_version: VersionRecord, new_version: VersionRecord) -> SchemaDiff:
        """The diff from an in-use version to the SHADOW one, measured where it must be."""
        warehouse = self._deps.warehouse
        dialect = warehouse.dialect
        old = specs_of(old_version.columns)
        new = specs_of(new_version.columns)
        first = diff(old, new, dialect)
        # Would the values readers know today fit the new type? Measured on the old table.
        needed = undecided(first, dialect)
        exact = await measure_exact(warehouse, old_version.physical_name,
                                    {name: m for name, (_, m) in needed.items()})
        if needs_values(first):
            removed, added = rename_sides(first)
            old = with_stats(old, await ordered_fingerprints(warehouse, old_version.physical_name, removed))
            new = with_stats(new, await ordered_fingerprints(warehouse, new_version.physical_name, added))
        old = with_stats(old, exact)
        result = diff(old, new, dialect) if exact or needs_values(first) else first
        label = f"v{old_version.version}"
        return SchemaDiff.of(tuple(replace(c, version=label) for c in result.changes))

    async def _store(self, record: TableRecord, target: VersionRecord, in_use: list[VersionRecord],
                     combined: SchemaDiff) -> DriftReportRecord:
        active = next((v for v in in_use if v.state is TableState.ACTIVE), None)
        base = active or max(in_use, key=lambda v: v.version)
        report = new_report(
            table=record.name, contract_id=None, source=DriftSource.PROMOTION,
            from_version=base.version, to_version=target.version, from_schema=base.schema_version,
            to_schema=target.schema_version, result=combined,
            rule=f"schema {target.schema_version} against " + ", ".join(
                f"v{v.version} ({v.schema_version})" for v in in_use),
            actor=GATE.email, at=self._deps.clock())
        async with self._deps.uow() as own:
            contract = await own.ingestion.get_contract(record.name)
            if contract is not None and any(cv.version == target.version for cv in contract.versions):
                report = replace(report, contract_id=contract.id)
            saved = await store_report(own, GATE, report)
            await own.commit()
        assert saved.id is not None
        self._deps.events.publish(drift_event(
            table=record.name, contract_id=saved.contract_id, severity=saved.severity,
            report_id=saved.id, changes=len(saved.changes), at=saved.detected_at,
            states=frozenset({target.state, base.state})))
        return saved


def _json(c: SchemaChange) -> dict[str, object]:
    """A change as ``extensions.changes`` carries it: the field names of the GraphQL type."""
    s = stored(c)
    return {"type": s.type, "column": s.column, "oldColumn": s.old_column, "newColumn": s.new_column,
            "oldType": s.old_type, "newType": s.new_type, "severity": s.severity, "reason": s.reason,
            "confidence": s.confidence, "undecided": s.undecided, "againstVersion": s.against_version}


def _warning(c: SchemaChange) -> str:
    against = f" (against {c.version})" if c.version else ""
    return f"{c.severity.value}{against}: {c.reason}"


def _listing(changes: list[SchemaChange]) -> str:
    shown = "; ".join(f"{c.type.value} {c.column} against {c.version}: {c.reason}"
                      for c in changes[:MAX_LISTED])
    more = len(changes) - MAX_LISTED
    return shown + (f"; and {more} more" if more > 0 else "")
