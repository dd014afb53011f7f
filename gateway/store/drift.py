"""Repository of drift reports and value baselines. Never commits; returns plain records."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.drift_records import DriftReportRecord, DriftSource, NewDriftReport, StoredChange
from gateway.store.drift_models import DriftBaselineRow, DriftReportRow


def _record(row: DriftReportRow) -> DriftReportRecord:
    return DriftReportRecord(
        id=row.id, table=row.table_name, contract_id=row.contract_id, source=DriftSource(row.source),
        from_version=row.from_version, to_version=row.to_version,
        from_schema_version=row.from_schema_version, to_schema_version=row.to_schema_version,
        changes=tuple(StoredChange.from_json(c) for c in row.changes or ()), severity=row.severity,
        migration_guide=row.migration_guide, version_rule=row.version_rule,
        detected_by=row.detected_by, detected_at=row.detected_at, resolved_at=row.resolved_at,
        resolved_by=row.resolved_by, note=row.note)


class DriftRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, report: NewDriftReport) -> DriftReportRecord:
        row = DriftReportRow(
            table_name=report.table, contract_id=report.contract_id, source=report.source.value,
            from_version=report.from_version, to_version=report.to_version,
            from_schema_version=report.from_schema_version, to_schema_version=report.to_schema_version,
            changes=[c.as_json() for c in report.changes], severity=report.severity,
            migration_guide=report.migration_guide, version_rule=report.version_rule,
            fingerprint=report.fingerprint, detected_by=report.detected_by,
            detected_at=report.detected_at)
        self._session.add(row)
        await self._session.flush()
        return _record(row)

    async def get(self, report_id: int) -> DriftReportRecord | None:
        row = await self._session.get(DriftReportRow, report_id, populate_existing=True)
        return _record(row) if row else None

    async def open_with_fingerprint(self, fingerprint: str) -> DriftReportRecord | None:
        """An unresolved report of the very same detection, if one is stored."""
        row = await self._session.scalar(
            select(DriftReportRow).where(DriftReportRow.fingerprint == fingerprint,
                                         DriftReportRow.resolved_at.is_(None))
            .order_by(DriftReportRow.id.desc()).limit(1))
        return _record(row) if row else None

    async def list(self, *, table: str | None, contract_id: str | None,
                   severities: Sequence[str] | None, unresolved_only: bool,
                   limit: int) -> list[DriftReportRecord]:
        query = select(DriftReportRow)
        if table is not None:
            query = query.where(DriftReportRow.table_name == table)
        if contract_id is not None:
            query = query.where(DriftReportRow.contract_id == contract_id)
        if severities is not None:
            query = query.where(DriftReportRow.severity.in_(list(severities)))
        if unresolved_only:
            query = query.where(DriftReportRow.resolved_at.is_(None))
        rows = (await self._session.scalars(
            query.order_by(DriftReportRow.id.desc()).limit(limit))).all()
        return [_record(r) for r in rows]

    async def resolve(self, report_id: int, by: str, note: str | None, at: datetime) -> bool:
        """Compare-and-set: False when the report was already resolved (or does not exist)."""
        result = await self._session.execute(
            update(DriftReportRow)
            .where(DriftReportRow.id == report_id, DriftReportRow.resolved_at.is_(None))
            .values(resolved_at=at, resolved_by=by, note=note)
            .execution_options(synchronize_session=False))
        await self._session.flush()
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    # --- baselines -----------------------------------------------------------------------

    async def baseline(self, table: str, version: int) -> dict[str, builtins.list[int]]:
        row = await self._baseline_row(table, version)
        return {k: list(v) for k, v in (row.fingerprints or {}).items()} if row else {}

    async def save_baseline(self, table: str, version: int, fingerprints: dict[str, Any],
                            at: datetime) -> None:
        row = await self._baseline_row(table, version)
        if row is None:
            self._session.add(DriftBaselineRow(table_name=table, version=version,
                                               fingerprints=fingerprints, measured_at=at))
        else:
            row.fingerprints = fingerprints
            row.measured_at = at
        await self._session.flush()

    async def _baseline_row(self, table: str, version: int) -> DriftBaselineRow | None:
        return await self._session.scalar(
            select(DriftBaselineRow).where(DriftBaselineRow.table_name == table,
                                           DriftBaselineRow.version == version))
