"""Replay and backfill: a dry run first, always; an admin's confirmation carries it out.

The dry run applies the whole operation inside one warehouse transaction and rolls it back, so
its estimates are exact for that moment; it records an operation with a fingerprint of what it
depends on (contract version, table state, the source). ``confirm`` re-checks the fingerprint,
then works in batches of ``batch_size``, each one transaction with its checkpoint: after a crash,
confirming again resumes at the first batch without a checkpoint, so nothing is applied twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway import metrics
from gateway.domain import Capability, TableState
from gateway.errors import Conflict, InvalidInput
from gateway.ingestion_records import Counts, OperationRecord
from gateway.records import Principal
from gateway.services.access import require
from gateway.services.backfill import Source, file_source, table_source
from gateway.services.base import ServiceDeps, audit, aware
from gateway.services.contracts import check_mode
from gateway.services.events import backfill_progress_event
from gateway.services.ingestion import Target, load_target, new_id
from gateway.services.ingestion_runs import RunLiveness
from gateway.services.ingestion_validate import UNPARSED, RecordValidator, canonical_time, target_spec
from gateway.services.visibility import resolved_version
from gateway.warehouse.contract import Capability as WarehouseCapability
from gateway.warehouse.writer import Batch, IngestWriter, TargetSpec

STRATEGIES = ("IDEMPOTENCY_KEY", "CONTRACT")
OPERATION_TTL = timedelta(hours=1)
MAX_BATCH_SIZE = 100_000


class OperationInterrupted(Exception):
    """The run stopped between two committed batches (``stop_after_batches``): a crash stand-in."""


@dataclass(frozen=True, slots=True)
class OperationPreview:
    operation_id: str
    kind: str
    contract_id: str
    version: int
    estimated_rows: int  # records in range the operation reads
    estimated_new_rows: int
    estimated_duplicates: int
    estimated_quarantined: int
    preview: list[dict[str, Any]]
    expires_at: datetime
    message: str
    confirmation_required: bool = True


@dataclass(frozen=True, slots=True)
class OperationProgress:
    operation_id: str
    batch_no: int
    batches_done: int
    rows_done: int
    skipped: bool


@dataclass(frozen=True, slots=True)
class OperationResult:
    operation_id: str
    kind: str
    status: str
    run_id: str
    batches: int
    batches_resumed: int  # batches found already applied by an earlier, interrupted run
    accepted: int
    duplicates: int
    quarantined: int


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything needed to read, validate and write an operation, derived from its params."""

    target: Target
    spec: TargetSpec
    source: Source | None  # None for a replay (it reads the landing log)
    start: str
    end: str
    batch_size: int


class ReplayService:
    def __init__(self, deps: ServiceDeps, archive_dir: str, liveness: RunLiveness | None = None) -> None:
        self._deps = deps
        self.archive_dir = archive_dir
        self.writer = IngestWriter(deps.warehouse)
        self.liveness = liveness or RunLiveness(deps)

    # --- dry runs ------------------------------------------------------------------------

    async def replay(self, principal: Principal, contract_id: str, start: datetime, end: datetime,
                     dedupe_strategy: str, preview_rows: int = 10, batch_size: int = 5000) -> OperationPreview:
        params = {"start": canonical_time(_aware(start)), "end": canonical_time(_aware(end)),
                  "dedupe_strategy": dedupe_strategy, "batch_size": batch_size}
        return await self._dry_run(principal, "REPLAY", contract_id, params, preview_rows)

    async def backfill(self, principal: Principal, contract_id: str, *, start: datetime, end: datetime,
                       dedupe_strategy: str, path: str | None = None, format: str | None = None,
                       table: str | None = None, batch_size: int = 1000,
                       preview_rows: int = 10) -> OperationPreview:
        if (path is None) == (table is None):
            raise InvalidInput("A backfill source is either a file `path` under the archive directory or a `table`.")
        params = {"start": canonical_time(_aware(start)), "end": canonical_time(_aware(end)),
                  "dedupe_strategy": dedupe_strategy, "batch_size": batch_size, "path": path,
                  "format": format, "table": table}
        return await self._dry_run(principal, "BACKFILL", contract_id, params, preview_rows)

    async def _dry_run(self, principal: Principal, kind: str, contract_id: str, params: dict[str, Any],
                       preview_rows: int) -> OperationPreview:
        require(principal, Capability.REPLAY)
        self._deps.warehouse.require(WarehouseCapability.INGESTION)
        if params["start"] >= params["end"]:
            raise InvalidInput("timeRange.start must be before timeRange.end.")
        if params["dedupe_strategy"] not in STRATEGIES:
            raise InvalidInput(f"dedupeStrategy is one of {', '.join(STRATEGIES)}.")
        if not 1 <= params["batch_size"] <= MAX_BATCH_SIZE:
            raise InvalidInput(f"batchSize must be between 1 and {MAX_BATCH_SIZE:,}.")
        if not 0 <= preview_rows <= 100:
            raise InvalidInput("previewRows must be between 0 and 100.")
        now = self._deps.clock()
        async with self._deps.uow() as uow:
            await check_mode(uow, Capability.REPLAY)
            plan = await self._plan(uow, kind, contract_id, params)
        (fingerprint, max_id), outcome, preview, read = await self._deps.warehouse.run(
            lambda: self._simulate(plan, now, preview_rows))
        params = {**params, "landing_max_id": max_id}
        op = OperationRecord(
            id=new_id("op"), kind=kind, contract_id=plan.target.contract.id, version=plan.target.version.version,
            params=params, fingerprint=fingerprint, status="PENDING", estimated_rows=read,
            estimated_duplicates=outcome[1], created_by=principal.email, created_at=now,
            expires_at=now + OPERATION_TTL, confirmed_by=None, confirmed_at=None, finished_at=None, run_id=None)
        async with self._deps.uow() as uow:
            await uow.ingestion.add_operation(op)
            await audit(uow, principal, kind.lower() + "DryRun", "operation", op.id, now, before=None,
                        after={"contract": op.contract_id, "version": op.version, "params": params,
                               "estimatedRows": read, "estimatedDuplicates": outcome[1]})
            await uow.commit()
        return OperationPreview(
            operation_id=op.id, kind=kind, contract_id=op.contract_id, version=op.version, estimated_rows=read,
            estimated_new_rows=outcome[0], estimated_duplicates=outcome[1], estimated_quarantined=outcome[2],
            preview=preview, expires_at=op.expires_at,
            message=f"Dry run only: nothing was written. An admin confirms with confirmOperation(\"{op.id}\") "
                    f"before {op.expires_at.isoformat(timespec='seconds')}.")

    async def _plan(self, uow: Any, kind: str, contract_id: str, params: dict[str, Any]) -> Plan:
        target = await load_target(uow, contract_id)
        strategy = params["dedupe_strategy"]
        spec = target_spec(target.version, target.table_version.physical_name)
        if strategy == "IDEMPOTENCY_KEY":  # never apply a key the target already holds
            spec = target_spec(target.version, target.table_version.physical_name,
                               conflict="ignore" if spec.mode == "upsert" else None, window_seconds=None)
        source = None
        if kind == "BACKFILL":
            if params.get("path"):
                source = file_source(self.archive_dir, params["path"], params.get("format"))
            else:
                table = await uow.tables.get(str(params["table"]).strip().lower())
                version = resolved_version(table) if table else None
                if version is None or version.state is TableState.SHADOW:
                    raise InvalidInput(f"No queryable table {params['table']!r} to backfill from.")
                source = table_source(self.writer.tables, table.name, version.physical_name)
        return Plan(target, spec, source, params["start"], params["end"], int(params["batch_size"]))

    # --- blocking parts (worker thread) ----------------------------------------------------

    def _fingerprint(self, plan: Plan) -> tuple[str, int]:
        """A digest of what the operation depends on, and (replay) the newest landing id it covers."""
        head = f"{plan.target.contract.id}:v{plan.target.version.version}:{plan.target.table_version.state.value}"
        max_id = 0
        if plan.source is not None:
            state = f"{head}|{plan.source.fingerprint()}"
        else:
            count, max_id = self.writer.tables.landing_stats(plan.target.contract.id, plan.start, plan.end)
            state = f"{head}|landing:{count}:{max_id}"
        return hashlib.sha256(state.encode()).hexdigest(), max_id

    def _raws(self, plan: Plan, max_id: int) -> Iterator[tuple[int | None, str, Any]]:
        if plan.source is not None:
            return plan.source.open()
        return ((None, raw, UNPARSED) for _, raw in
                self.writer.tables.landing_records(plan.target.contract.id, plan.start, plan.end, max_id))

    def _batches(self, plan: Plan, max_id: int, validator: RecordValidator,
                 counter: list[int]) -> Iterator[Batch]:
        raws = self._raws(plan, max_id)
        while chunk := list(itertools.islice(raws, plan.batch_size)):
            counter[0] += len(chunk)
            batch = Batch(land=plan.source is not None)  # replayed records are in the landing log already
            for line, raw, value in chunk:
                validator.add(batch, line, raw, value)
            yield batch

    def _simulate(self, plan: Plan, now: datetime, preview_rows: int) -> tuple[tuple[str, int], tuple[int, int, int],
                                                                                list[dict[str, Any]], int]:
        fingerprint, max_id = self._fingerprint(plan)
        validator = RecordValidator(plan.target.version, now, (plan.start, plan.end),
                                    self.writer.key_text_chars(plan.spec))
        preview: list[dict[str, Any]] = []
        counter = [0]

        def batches() -> Iterator[Batch]:
            for batch in self._batches(plan, max_id, validator, counter):
                for row in batch.rows[: preview_rows - len(preview)]:
                    preview.append(dict(zip(plan.spec.columns, row, strict=True)))
                yield batch

        out = self.writer.simulate(plan.spec, batches())
        return (fingerprint, max_id), (out.accepted, out.duplicates, out.quarantined), preview, \
            counter[0] - validator.out_of_range

    # --- confirmation ----------------------------------------------------------------------

    async def confirm(self, principal: Principal, operation_id: str, *,
                      progress: Callable[[OperationProgress], None] | None = None,
                      stop_after_batches: int | None = None) -> OperationResult:
        require(principal, Capability.REPLAY)
        now = self._deps.clock()
        async with self._deps.uow() as uow:
            await check_mode(uow, Capability.REPLAY)
            op = await uow.ingestion.get_operation(operation_id)
            if op is None:
                raise InvalidInput(f"No operation {operation_id!r}; run the replay or backfill dry run first.")
            if op.status == "DONE":
                raise Conflict(f"Operation {op.id} was already carried out (run {op.run_id}).")
            if op.status == "PENDING" and now > aware(op.expires_at):
                raise Conflict(f"The dry run {op.id} expired; run it again to see fresh estimates.")
            plan = await self._plan(uow, op.kind, op.contract_id, op.params)
            if plan.target.version.version != op.version:
                raise Conflict(f"The contract moved to v{plan.target.version.version} since the dry run; "
                               "run the dry run again.")
        fingerprint, _ = await self._deps.warehouse.run(lambda: self._fingerprint(plan))
        if fingerprint != op.fingerprint:
            raise Conflict("What this operation depends on changed since its dry run (the contract, the "
                           "table's state or the source); run the dry run again.")
        run_id = op.run_id or new_id("run")
        async with self._deps.uow() as uow:
            if not await uow.ingestion.move_operation(op.id, ("PENDING", "RUNNING", "FAILED"), "RUNNING",
                                                      confirmed_by=principal.email, confirmed_at=now,
                                                      run_id=run_id):
                raise Conflict(f"Operation {op.id} changed while this ran; reload it.")
            if op.run_id is None:
                await uow.ingestion.start_run(run_id, op.contract_id, op.version, op.kind,
                                              "landing" if op.kind == "REPLAY" else plan.source.kind.lower()
                                              if plan.source else "file", principal.email, now, op.id,
                                              owner=self.liveness.owner)
            else:  # a resumed run (INTERRUPTED, or RUNNING) is this process's now
                await uow.ingestion.progress_run(run_id, None, now, self.liveness.owner)
            await audit(uow, principal, "confirmOperation", "operation", op.id, now,
                        before={"status": op.status}, after={"status": "RUNNING", "runId": run_id})
            await uow.commit()
        loop = asyncio.get_running_loop()

        def on_batch(step: OperationProgress) -> None:  # in the worker thread, after the batch committed
            if progress is not None:
                progress(step)
            if op.kind == "BACKFILL":  # published from the loop, where the event relay writes
                loop.call_soon_threadsafe(self._announce, op, plan, step.rows_done, step.batches_done,
                                          principal.email)

        async with self.liveness.landing(run_id):
            batches, resumed, newest = await self._deps.warehouse.run(
                lambda: self._execute(plan, op.id, run_id, int(op.params.get("landing_max_id") or 0), on_batch,
                                      stop_after_batches))
        totals = await self._deps.warehouse.run(lambda: self.writer.tables.checkpoints(op.id))
        counts = Counts(sum(t[0] for t in totals.values()), sum(t[1] for t in totals.values()),
                        sum(t[2] for t in totals.values()))
        done = self._deps.clock()
        async with self._deps.uow() as uow:
            await uow.ingestion.move_operation(op.id, ("RUNNING",), "DONE", finished_at=done)
            await uow.ingestion.finish_run(run_id, counts, "SUCCEEDED", done)
            if newest:
                await uow.ingestion.record_freshness(op.contract_id, datetime.fromisoformat(newest), done)
            await uow.commit()
        if op.kind == "REPLAY":
            metrics.REPLAY_COUNT.labels(contract_id=op.contract_id).inc()
        else:
            metrics.BACKFILL_ROWS.labels(contract_id=op.contract_id).inc(counts.accepted)
        self._announce(op, plan, counts.accepted + counts.duplicates + counts.quarantined, batches,
                       principal.email, finished=True)
        return OperationResult(op.id, op.kind, "DONE", run_id, batches, resumed, counts.accepted,
                               counts.duplicates, counts.quarantined)

    def _announce(self, op: OperationRecord, plan: Plan, rows_done: int, batches_done: int, actor: str,
                  finished: bool = False) -> None:
        self._deps.events.publish(backfill_progress_event(
            contract_id=op.contract_id, table=plan.target.contract.table, operation_id=op.id,
            rows_done=rows_done, rows_total=op.estimated_rows, at=self._deps.clock(), finished=finished,
            operation=op.kind, batches_done=batches_done, actor=actor))

    def _execute(self, plan: Plan, op_id: str, run_id: str, max_id: int,
                 progress: Callable[[OperationProgress], None] | None,
                 stop_after_batches: int | None) -> tuple[int, int, str | None]:
        done = self.writer.tables.checkpoints(op_id)
        validator = RecordValidator(plan.target.version, self._deps.clock(), (plan.start, plan.end),
                                    self.writer.key_text_chars(plan.spec))
        applied = rows = resumed = 0
        batch_no = -1
        for batch_no, batch in enumerate(self._batches(plan, max_id, validator, [0])):
            skipped = batch_no in done
            if not skipped:
                if stop_after_batches is not None and applied >= stop_after_batches:
                    raise OperationInterrupted(f"stopped after {applied} batch(es) of {op_id}")
                skipped = self.writer.apply(plan.spec, batch, run_id=run_id, checkpoint=(op_id, batch_no)).skipped
                applied += 0 if skipped else 1
            resumed += 1 if skipped else 0
            rows += len(batch.rows) + len(batch.quarantine)
            if progress is not None:
                progress(OperationProgress(op_id, batch_no, batch_no + 1, rows, skipped))
        return batch_no + 1, resumed, validator.newest_event


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput("timeRange bounds need a time zone (e.g. 2025-01-01T00:00:00Z).")
    return value
