"""Ingesting records into a contract's table version, and reading runs and quarantine back.

Records arrive in batches (a GraphQL list, or chunks of an NDJSON stream that is never held in
memory whole). Each batch is validated and applied in a worker thread, as one warehouse
transaction (see ``gateway.warehouse.writer``) that also writes the batch's checkpoint; the run's
counts go to the catalog after every batch, and its heartbeat while it lands (see
``gateway.services.ingestion_runs``). Before every batch but the first the system mode is read
again: switching to READ_ONLY stops a stream between two batches.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway import metrics
from gateway.domain import Capability
from gateway.errors import Conflict, InvalidInput, ModeDisabled
from gateway.ingestion_records import (
    ContractRecord,
    ContractVersionRecord,
    Counts,
    QuarantinedRecord,
    RunRecord,
    RunStatus,
)
from gateway.records import Principal, VersionRecord
from gateway.services.access import require, require_mode
from gateway.services.base import ServiceDeps
from gateway.services.contracts import check_mode, current_mode, writable
from gateway.services.events import ingestion_run_event
from gateway.services.ingestion_runs import DEFAULT_LEASE_SECONDS, RunLiveness
from gateway.services.ingestion_validate import UNPARSED, RecordValidator, parse_canonical_time, target_spec
from gateway.store.unit_of_work import UnitOfWork
from gateway.warehouse.contract import Capability as WarehouseCapability
from gateway.warehouse.writer import Batch, BatchOutcome, IngestWriter, TargetSpec

Raw = tuple[int | None, str, Any]  # (line number, raw text, parsed value or UNPARSED)
MAX_BATCH = 50_000
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class IngestionResult:
    run_id: str
    accepted: int
    duplicates: int
    quarantined: int
    errors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Target:
    contract: ContractRecord
    version: ContractVersionRecord
    table_version: VersionRecord


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


async def load_target(uow: UnitOfWork, contract_id: str) -> Target:
    """The contract's newest version and the table version it writes to, which must be writable."""
    contract = await uow.ingestion.get_contract(contract_id.strip().lower())
    if contract is None:
        raise InvalidInput(f"No contract {contract_id!r}; register one with registerContract first.")
    current = contract.latest
    table = await uow.tables.get(contract.table)
    version = table.version(current.version) if table else None
    if version is None:
        raise Conflict(f"{contract.table} v{current.version} is missing from the catalog.")
    if not writable(version.state):
        raise Conflict(f"{contract.table} v{current.version} is {version.state.value}; only a SHADOW version "
                       "takes writes. Register a new contract version to ingest again.")
    return Target(contract, current, version)


def outcome_errors(batch: Batch, outcome: BatchOutcome, room: int) -> list[str]:
    found = [f"line {line}: {reason}" if line is not None else reason for line, reason, _ in batch.quarantine]
    return (found + outcome.conflicts)[:max(room, 0)]


class IngestionService:
    def __init__(self, deps: ServiceDeps, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        self._deps = deps
        self.writer = IngestWriter(deps.warehouse)
        self.liveness = RunLiveness(deps, lease_seconds)

    async def ingest(self, principal: Principal, contract_id: str, records: Sequence[Any],
                     source: str = "graphql") -> IngestionResult:
        async def one_batch() -> AsyncIterator[list[Raw]]:
            for start in range(0, len(records), MAX_BATCH):
                yield [(i + 1, json.dumps(r, default=str), r)
                       for i, r in enumerate(records[start:start + MAX_BATCH], start)]

        return await self.ingest_stream(principal, contract_id, one_batch(), source=source)

    async def ingest_stream(self, principal: Principal, contract_id: str,
                            batches: AsyncIterator[list[Raw]], source: str = "ndjson") -> IngestionResult:
        require(principal, Capability.INGEST)
        self._deps.warehouse.require(WarehouseCapability.INGESTION)
        now = self._deps.clock()
        run_id = new_id("run")
        async with self._deps.uow() as uow:
            await check_mode(uow, Capability.INGEST)
            target = await load_target(uow, contract_id)
            await uow.ingestion.start_run(run_id, target.contract.id, target.version.version, "INGEST",
                                          source, principal.email, now, owner=self.liveness.owner)
            await uow.commit()
        spec = target_spec(target.version, target.table_version.physical_name)
        # A worker thread: the first ask may connect to learn the server's flavour.
        limit = await self._deps.warehouse.run(lambda: self.writer.key_text_chars(spec))
        validator = RecordValidator(target.version, now, key_text_chars=limit)
        counts = Counts()
        status = RunStatus.FAILED
        async with self.liveness.owning(run_id):  # until its end is written, even when cancelled
            try:
                async with self.liveness.beating(run_id):
                    batch_no = 0
                    async for raws in batches:
                        if batch_no:  # the mode is a kill switch: asked again before every batch
                            await self._still_ingesting(run_id, counts)
                        batch, outcome = await self._deps.warehouse.run(
                            lambda raws=raws, n=batch_no: self._validate_and_apply(  # type: ignore[misc]
                                validator, spec, raws, run_id, n))
                        counts.add(Counts(outcome.accepted, outcome.duplicates, outcome.quarantined,
                                          outcome_errors(batch, outcome, 50 - len(counts.errors))))
                        batch_no += 1
                        await self.liveness.progress(run_id, counts)
                status = RunStatus.SUCCEEDED
            except ModeDisabled as stopped:
                counts.errors.append(stopped.message)
                raise
            except asyncio.CancelledError:  # the server's shutdown grace period ran out mid-stream
                status = RunStatus.INTERRUPTED
                counts.errors.append("interrupted: the server shut down while this stream was landing; "
                                     "the counts are those of the batches applied before")
                raise
            finally:
                await self._finish(run_id, target, counts, status, validator.newest_event, principal.email)
        return IngestionResult(run_id, counts.accepted, counts.duplicates, counts.quarantined,
                               tuple(counts.errors))

    async def _still_ingesting(self, run_id: str, counts: Counts) -> None:
        async with self._deps.uow() as uow:
            mode = await current_mode(uow)
        try:
            require_mode(Capability.INGEST, mode)
        except ModeDisabled:
            raise ModeDisabled(
                f"The system was switched to {mode.value} while this stream was landing: the batches "
                f"before were applied ({counts.accepted} accepted, {counts.duplicates} duplicates, "
                f"{counts.quarantined} quarantined), nothing after. Send the rest again once the system "
                "is INGESTION_READY; what was applied counts as duplicates.",
                runId=run_id, accepted=counts.accepted, duplicates=counts.duplicates,
                quarantined=counts.quarantined, requiredMode="INGESTION_READY") from None

    def _validate_and_apply(self, validator: RecordValidator, spec: TargetSpec, raws: list[Raw],
                            run_id: str, batch_no: int) -> tuple[Batch, BatchOutcome]:
        batch = Batch()
        for line, raw, value in raws:
            validator.add(batch, line, raw, value)
        # The checkpoint commits with the batch: what a killed run holds is counted from these.
        return batch, self.writer.apply(spec, batch, run_id=run_id, checkpoint=(run_id, batch_no))

    async def _finish(self, run_id: str, target: Target, counts: Counts, status: RunStatus,
                      newest_event: str | None, actor: str) -> None:
        now = self._deps.clock()
        newest = parse_canonical_time(newest_event) if newest_event else None
        async with self._deps.uow() as uow:
            await uow.ingestion.finish_run(run_id, counts, status, now)
            await uow.ingestion.record_freshness(target.contract.id, newest, now)
            await uow.commit()
        contract_id = target.contract.id
        metrics.INGESTION_RUNS.labels(contract_id=contract_id, status=status).inc()
        self._deps.events.publish(ingestion_run_event(
            contract_id=contract_id, table=target.contract.table, run_id=run_id, accepted=counts.accepted,
            duplicates=counts.duplicates, quarantined=counts.quarantined, at=now, status=status, actor=actor))
        for label, n in (("accepted", counts.accepted), ("duplicate", counts.duplicates),
                         ("quarantined", counts.quarantined)):
            if n:
                metrics.INGESTION_ROWS.labels(contract_id=contract_id, status=label).inc(n)
        if newest is not None:
            metrics.INGESTION_LAG_SECONDS.labels(contract_id=contract_id).set(
                max(0.0, (now - newest).total_seconds()))

    # --- reading -------------------------------------------------------------------------

    async def runs(self, principal: Principal, contract_id: str, first: int = 50) -> list[RunRecord]:
        require(principal, Capability.VIEW_INGESTION)
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInput(f"`first` must be between 1 and {MAX_PAGE}.")
        cid = contract_id.strip().lower()
        await self.liveness.reconcile(cid)  # a dead run shows as INTERRUPTED, not RUNNING forever
        async with self._deps.uow() as uow:
            return await uow.ingestion.list_runs(cid, first)

    async def quarantine(self, principal: Principal, contract_id: str, run_id: str | None = None,
                         first: int = 100) -> list[QuarantinedRecord]:
        require(principal, Capability.VIEW_INGESTION)
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInput(f"`first` must be between 1 and {MAX_PAGE}.")
        cid = contract_id.strip().lower()
        tables = self.writer.tables
        # No bookkeeping tables yet: nothing was ever quarantined.
        rows = await self._deps.warehouse.run(
            lambda: tables.quarantined(cid, run_id, first) if tables.has_bookkeeping() else [])
        return [QuarantinedRecord(id=int(r[0]), contract_id=r[1], version=int(r[2]), run_id=r[3],
                                  received_at=datetime.fromtimestamp(float(r[4]), UTC),
                                  line_number=int(r[5]) if r[5] is not None else None, reason=r[6], raw=r[7])
                for r in rows]


__all__ = ["UNPARSED", "IngestionResult", "IngestionService", "Raw", "Target", "load_target", "new_id"]
