"""Repository of contracts, contract versions, ingestion runs and replay/backfill operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.ingestion_records import (
    ContractColumn,
    ContractRecord,
    ContractSpec,
    ContractVersionRecord,
    Counts,
    OperationRecord,
    RunRecord,
    RunStatus,
    Semantics,
    Sla,
)
from gateway.store.ingestion_models import (
    ContractRow,
    ContractVersionRow,
    IngestionOperationRow,
    IngestionRunRow,
)


def _version(row: ContractVersionRow) -> ContractVersionRecord:
    return ContractVersionRecord(
        contract_id=row.contract_id, version=row.version,
        columns=tuple(ContractColumn.from_json(c) for c in row.columns or ()),
        semantics=Semantics.from_json(row.semantics), sla=Sla.from_json(row.sla),
        warnings=tuple(row.warnings or ()), description=row.description,
        created_by=row.created_by, created_at=row.created_at)


def _run(row: IngestionRunRow) -> RunRecord:
    return RunRecord(id=row.id, contract_id=row.contract_id, version=row.version, kind=row.kind,
                     source=row.source, actor=row.actor, status=row.status, started_at=row.started_at,
                     finished_at=row.finished_at, accepted=row.accepted, duplicates=row.duplicates,
                     quarantined=row.quarantined, errors=tuple(row.errors or ()),
                     operation_id=row.operation_id, owner=row.owner, heartbeat_at=row.heartbeat_at)


def _operation(row: IngestionOperationRow) -> OperationRecord:
    return OperationRecord(
        id=row.id, kind=row.kind, contract_id=row.contract_id, version=row.version,
        params=dict(row.params or {}), fingerprint=row.fingerprint, status=row.status,
        estimated_rows=row.estimated_rows, estimated_duplicates=row.estimated_duplicates,
        created_by=row.created_by, created_at=row.created_at, expires_at=row.expires_at,
        confirmed_by=row.confirmed_by, confirmed_at=row.confirmed_at, finished_at=row.finished_at,
        run_id=row.run_id)


class IngestionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- contracts -----------------------------------------------------------------------

    async def get_contract(self, contract_id: str) -> ContractRecord | None:
        row = await self._session.get(ContractRow, contract_id, populate_existing=True)
        if row is None:
            return None
        versions = (await self._session.scalars(
            select(ContractVersionRow).where(ContractVersionRow.contract_id == contract_id)
            .order_by(ContractVersionRow.version))).all()
        return ContractRecord(id=row.id, table=row.table_name, created_at=row.created_at,
                              newest_event_time=row.newest_event_time,
                              last_ingested_at=row.last_ingested_at,
                              versions=tuple(_version(v) for v in versions))

    async def list_contracts(self) -> list[ContractRecord]:
        ids = (await self._session.scalars(select(ContractRow.id).order_by(ContractRow.id))).all()
        found = [await self.get_contract(i) for i in ids]
        return [c for c in found if c is not None]

    async def add_contract_version(self, contract_id: str, version: int, spec: ContractSpec,
                                   actor: str, at: datetime) -> None:
        if await self._session.get(ContractRow, contract_id) is None:
            self._session.add(ContractRow(id=contract_id, table_name=spec.table, created_at=at))
        self._session.add(ContractVersionRow(
            contract_id=contract_id, version=version, columns=[c.as_json() for c in spec.columns],
            semantics=spec.semantics.as_json(), sla=spec.sla.as_json() if spec.sla else None,
            warnings=list(spec.warnings), description=spec.description, created_by=actor, created_at=at))
        await self._session.flush()

    async def record_freshness(self, contract_id: str, newest_event_time: datetime | None,
                               at: datetime) -> None:
        row = await self._session.get(ContractRow, contract_id)
        if row is None:
            return
        current = row.newest_event_time
        if newest_event_time is not None and (current is None or _utc(newest_event_time) > _utc(current)):
            row.newest_event_time = newest_event_time
        row.last_ingested_at = at
        await self._session.flush()

    # --- runs ----------------------------------------------------------------------------

    async def start_run(self, run_id: str, contract_id: str, version: int, kind: str, source: str,
                        actor: str, at: datetime, operation_id: str | None = None,
                        owner: str | None = None) -> None:
        self._session.add(IngestionRunRow(
            id=run_id, contract_id=contract_id, version=version, kind=kind, source=source, actor=actor,
            status=RunStatus.RUNNING.value, started_at=at, accepted=0, duplicates=0, quarantined=0, errors=[],
            operation_id=operation_id, owner=owner, heartbeat_at=at))
        await self._session.flush()

    async def finish_run(self, run_id: str, counts: Counts, status: str, at: datetime) -> None:
        await self._session.execute(
            update(IngestionRunRow).where(IngestionRunRow.id == run_id)
            .values(accepted=counts.accepted, duplicates=counts.duplicates, quarantined=counts.quarantined,
                    errors=list(counts.errors), status=status, finished_at=at, heartbeat_at=at)
            .execution_options(synchronize_session=False))

    async def progress_run(self, run_id: str, counts: Counts | None, at: datetime, owner: str) -> None:
        """The counts so far (after a batch) and a heartbeat; a run that another process took for
        dead (it could not reach the catalog for longer than the lease) is RUNNING again."""
        values: dict[str, Any] = {"heartbeat_at": at, "owner": owner, "status": RunStatus.RUNNING.value,
                                  "finished_at": None}
        if counts is not None:
            values.update(accepted=counts.accepted, duplicates=counts.duplicates,
                          quarantined=counts.quarantined, errors=list(counts.errors))
        await self._session.execute(
            update(IngestionRunRow)
            .where(IngestionRunRow.id == run_id,
                   IngestionRunRow.status.in_((RunStatus.RUNNING.value, RunStatus.INTERRUPTED.value)))
            .values(**values).execution_options(synchronize_session=False))

    async def running_runs(self, limit: int = 1000) -> list[RunRecord]:
        rows = (await self._session.scalars(
            select(IngestionRunRow).where(IngestionRunRow.status == RunStatus.RUNNING.value)
            .order_by(IngestionRunRow.started_at).limit(limit))).all()
        return [_run(r) for r in rows]

    async def interrupt_run(self, run: RunRecord, counts: Counts, at: datetime) -> bool:
        """RUNNING -> INTERRUPTED, if nobody closed or took over the run since it was read."""
        seen = (IngestionRunRow.owner == run.owner if run.owner is not None
                else IngestionRunRow.owner.is_(None))
        result = await self._session.execute(
            update(IngestionRunRow)
            .where(IngestionRunRow.id == run.id, IngestionRunRow.status == RunStatus.RUNNING.value, seen)
            .values(accepted=counts.accepted, duplicates=counts.duplicates, quarantined=counts.quarantined,
                    errors=list(counts.errors), status=RunStatus.INTERRUPTED.value, finished_at=at)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def get_run(self, run_id: str) -> RunRecord | None:
        row = await self._session.get(IngestionRunRow, run_id, populate_existing=True)
        return _run(row) if row else None

    async def list_runs(self, contract_id: str, limit: int) -> list[RunRecord]:
        rows = (await self._session.scalars(
            select(IngestionRunRow).where(IngestionRunRow.contract_id == contract_id)
            .order_by(IngestionRunRow.started_at.desc(), IngestionRunRow.id.desc()).limit(limit))).all()
        return [_run(r) for r in rows]

    # --- operations ----------------------------------------------------------------------

    async def add_operation(self, op: OperationRecord) -> None:
        self._session.add(IngestionOperationRow(
            id=op.id, kind=op.kind, contract_id=op.contract_id, version=op.version, params=op.params,
            fingerprint=op.fingerprint, status=op.status, estimated_rows=op.estimated_rows,
            estimated_duplicates=op.estimated_duplicates, created_by=op.created_by,
            created_at=op.created_at, expires_at=op.expires_at))
        await self._session.flush()

    async def get_operation(self, operation_id: str) -> OperationRecord | None:
        row = await self._session.get(IngestionOperationRow, operation_id, populate_existing=True)
        return _operation(row) if row else None

    async def move_operation(self, operation_id: str, expected: tuple[str, ...], new: str,
                             **values: Any) -> bool:
        """Compare-and-set on the status, so two confirmations cannot both start the same run."""
        result = await self._session.execute(
            update(IngestionOperationRow)
            .where(IngestionOperationRow.id == operation_id, IngestionOperationRow.status.in_(expected))
            .values(status=new, **values).execution_options(synchronize_session=False))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _utc(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
