"""GraphQL types of contracts, ingestion runs, quarantine, replay and backfill."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gateway.graphql.enums import TableState
from gateway.ingestion_records import ContractColumn as ColumnRecord
from gateway.ingestion_records import QuarantinedRecord as QuarantinedRow
from gateway.ingestion_records import RunRecord, RunStatus, Semantics, Sla
from gateway.services.base import aware
from gateway.services.contracts import ContractVersionView, ContractView
from gateway.services.contracts import Freshness as FreshnessView
from gateway.services.ingestion import IngestionResult as ResultView
from gateway.services.replay import OperationPreview as PreviewView
from gateway.services.replay import OperationResult as OperationView


@strawberry.enum(description="How a replay or backfill decides that a record is already there.")
class DedupeStrategy(enum.Enum):
    IDEMPOTENCY_KEY = "IDEMPOTENCY_KEY"  # skip any record whose key the target already holds
    CONTRACT = "CONTRACT"  # the contract's own rules: dedupe window (append) or conflictResolution


@strawberry.enum
class SourceFormat(enum.Enum):
    NDJSON = "NDJSON"
    CSV = "CSV"
    PARQUET = "PARQUET"


@strawberry.type
class ContractColumn:
    name: str
    type: str
    nullable: bool
    description: str | None
    default: str | None
    max_length: int | None

    @classmethod
    def of(cls, c: ColumnRecord) -> ContractColumn:
        return cls(name=c.name, type=c.type, nullable=c.nullable, description=c.description,
                   default=c.default, max_length=c.max_length)


@strawberry.type
class IngestionSemantics:
    mode: str = strawberry.field(description="append | upsert")
    idempotency_key: list[str]
    event_time_column: str
    processing_time_column: str
    dedupe_window: str
    dedupe_window_seconds: int
    conflict_resolution: str = strawberry.field(description="latest_wins | error")
    unsafe_allow_processing_time: bool

    @classmethod
    def of(cls, s: Semantics) -> IngestionSemantics:
        return cls(mode=s.mode, idempotency_key=list(s.idempotency_key), event_time_column=s.event_time_column,
                   processing_time_column=s.processing_time_column, dedupe_window=s.dedupe_window,
                   dedupe_window_seconds=s.dedupe_window_seconds, conflict_resolution=s.conflict_resolution,
                   unsafe_allow_processing_time=s.unsafe_allow_processing_time)


@strawberry.type
class FreshnessSla:
    max_lag_seconds: int
    alert_threshold_seconds: int | None
    schedule: str | None

    @classmethod
    def of(cls, s: Sla | None) -> FreshnessSla | None:
        return cls(max_lag_seconds=s.max_lag_seconds, alert_threshold_seconds=s.alert_threshold_seconds,
                   schedule=s.schedule) if s else None


@strawberry.type
class Freshness:
    newest_event_time: datetime | None
    lag_seconds: float | None = strawberry.field(description="Now minus the newest event time ingested.")
    status: str = strawberry.field(description="UNKNOWN, OK, WARNING (past alertThreshold) or BREACHED (past maxLag)")
    breached: bool

    @classmethod
    def of(cls, f: FreshnessView) -> Freshness:
        return cls(newest_event_time=f.newest_event_time, lag_seconds=f.lag_seconds, status=f.status,
                   breached=f.breached)


@strawberry.type
class ContractVersion:
    version: int
    table_version: int
    state: TableState | None
    physical_name: str | None
    columns: list[ContractColumn]
    ingestion_semantics: IngestionSemantics
    sla: FreshnessSla | None
    warnings: list[str]
    description: str | None
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, v: ContractVersionView) -> ContractVersion:
        r = v.record
        return cls(version=r.version, table_version=r.version, state=v.state, physical_name=v.physical_name,
                   columns=[ContractColumn.of(c) for c in r.columns],
                   ingestion_semantics=IngestionSemantics.of(r.semantics), sla=FreshnessSla.of(r.sla),
                   warnings=list(r.warnings), description=r.description, created_by=r.created_by,
                   created_at=aware(r.created_at))


@strawberry.type
class Contract:
    id: str
    table: str
    version: int = strawberry.field(description="The current (newest visible) contract version.")
    state: TableState | None
    columns: list[ContractColumn]
    ingestion_semantics: IngestionSemantics
    sla: FreshnessSla | None
    warnings: list[str] = strawberry.field(description="Travel with the contract wherever it is shown.")
    freshness: Freshness
    versions: list[ContractVersion]
    created_at: datetime

    @classmethod
    def of(cls, view: ContractView) -> Contract:
        current = ContractVersion.of(view.current)
        return cls(id=view.id, table=view.table, version=current.version, state=current.state,
                   columns=current.columns, ingestion_semantics=current.ingestion_semantics, sla=current.sla,
                   warnings=current.warnings, freshness=Freshness.of(view.freshness),
                   versions=[ContractVersion.of(v) for v in view.versions], created_at=view.created_at)


@strawberry.type
class IngestionResult:
    run_id: str
    accepted: int
    duplicates: int
    quarantined: int
    errors: list[str]

    @classmethod
    def of(cls, r: ResultView) -> IngestionResult:
        return cls(run_id=r.run_id, accepted=r.accepted, duplicates=r.duplicates, quarantined=r.quarantined,
                   errors=list(r.errors))


strawberry.enum(RunStatus, name="IngestionRunStatus",
                description="RUNNING, SUCCEEDED, FAILED, or INTERRUPTED (its process died mid-run; "
                            "the counts are those of its committed batches).")


@strawberry.type
class IngestionRun:
    run_id: str
    contract_id: str
    version: int
    kind: str
    source: str
    actor: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    accepted: int
    duplicates: int
    quarantined: int
    errors: list[str]
    operation_id: str | None

    @classmethod
    def of(cls, r: RunRecord) -> IngestionRun:
        return cls(run_id=r.id, contract_id=r.contract_id, version=r.version, kind=r.kind, source=r.source,
                   actor=r.actor, status=RunStatus(r.status), started_at=aware(r.started_at),
                   finished_at=aware(r.finished_at) if r.finished_at else None, accepted=r.accepted,
                   duplicates=r.duplicates, quarantined=r.quarantined, errors=list(r.errors),
                   operation_id=r.operation_id)


@strawberry.type
class QuarantinedRecord:
    id: int
    contract_id: str
    version: int
    run_id: str
    received_at: datetime
    line_number: int | None
    reason: str
    raw: str

    @classmethod
    def of(cls, q: QuarantinedRow) -> QuarantinedRecord:
        return cls(id=q.id, contract_id=q.contract_id, version=q.version, run_id=q.run_id,
                   received_at=q.received_at, line_number=q.line_number, reason=q.reason, raw=q.raw)


@strawberry.type
class OperationPreview:
    operation_id: str
    kind: str
    contract_id: str
    version: int
    estimated_rows: int = strawberry.field(description="Records in the time range the operation reads.")
    estimated_new_rows: int
    estimated_duplicates: int
    estimated_quarantined: int
    preview: JSON = strawberry.field(description="The first records as they would be written.")
    confirmation_required: bool
    expires_at: datetime
    message: str

    @classmethod
    def of(cls, p: PreviewView) -> OperationPreview:
        return cls(operation_id=p.operation_id, kind=p.kind, contract_id=p.contract_id, version=p.version,
                   estimated_rows=p.estimated_rows, estimated_new_rows=p.estimated_new_rows,
                   estimated_duplicates=p.estimated_duplicates, estimated_quarantined=p.estimated_quarantined,
                   preview=p.preview,  # type: ignore[arg-type]
                   confirmation_required=p.confirmation_required, expires_at=p.expires_at,
                   message=p.message)


@strawberry.type
class OperationResult:
    operation_id: str
    kind: str
    status: str
    run_id: str
    batches: int
    batches_resumed: int
    accepted: int
    duplicates: int
    quarantined: int

    @classmethod
    def of(cls, r: OperationView) -> OperationResult:
        return cls(operation_id=r.operation_id, kind=r.kind, status=r.status, run_id=r.run_id, batches=r.batches,
                   batches_resumed=r.batches_resumed, accepted=r.accepted, duplicates=r.duplicates,
                   quarantined=r.quarantined)


@strawberry.input
class ContractColumnInput:
    name: str
    type: str
    nullable: bool = True
    description: str | None = None
    default: str | None = None


@strawberry.input(description="Every field is mandatory; they are optional here so that a missing one "
                              "is reported with the others as INVALID_CONTRACT.")
class IngestionSemanticsInput:
    mode: str | None = None
    idempotency_key: list[str] | None = None
    event_time_column: str | None = None
    processing_time_column: str | None = None
    dedupe_window: str | None = None
    conflict_resolution: str | None = None


@strawberry.input
class FreshnessSlaInput:
    max_lag_seconds: int
    alert_threshold_seconds: int | None = None
    schedule: str | None = None


@strawberry.input
class RegisterContractInput:
    table: str
    columns: list[ContractColumnInput]
    ingestion_semantics: IngestionSemanticsInput | None = None
    sla: FreshnessSlaInput | None = None
    description: str | None = None
    unsafe_allow_processing_time: bool = False


@strawberry.input
class TimeRangeInput:
    start: datetime
    end: datetime


@strawberry.input
class ReplayInput:
    contract_id: str
    time_range: TimeRangeInput
    dedupe_strategy: DedupeStrategy
    dry_run: bool = strawberry.field(default=True, description="Always a dry run: confirmOperation carries it out.")
    preview_rows: int = 10


@strawberry.input
class BackfillSourceInput:
    path: str | None = strawberry.field(default=None, description="A file under the archive directory.")
    format: SourceFormat | None = None
    table: str | None = strawberry.field(default=None, description="Or a catalog table to copy from.")


@strawberry.input
class BackfillInput:
    contract_id: str
    source: BackfillSourceInput
    time_range: TimeRangeInput
    dedupe_strategy: DedupeStrategy
    batch_size: int = 1000
    dry_run: bool = strawberry.field(default=True, description="Always a dry run: confirmOperation carries it out.")
    preview_rows: int = 10
