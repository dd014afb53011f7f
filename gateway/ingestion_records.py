"""Plain records of the ingestion area: contracts, runs, operations, quarantined records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """The states of an ingestion run (``ingestionRuns { status }``).

    RUNNING      landing batches; its process renews ``heartbeat_at`` (see
                 ``gateway.services.ingestion_runs``)
    SUCCEEDED    every batch was applied
    FAILED       it stopped on an error (a warehouse failure, the mode switched to READ_ONLY)
    INTERRUPTED  its process died mid-run (killed, crashed, host lost); closed by reconciliation
                 with the counts its committed batches hold
    """

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"


@dataclass(frozen=True, slots=True)
class ContractColumn:
    name: str
    type: str  # canonical: INTEGER BIGINT DOUBLE TEXT BOOLEAN TIMESTAMP DATE JSON
    nullable: bool = True
    description: str | None = None
    default: str | None = None
    max_length: int | None = None  # TEXT only: VARCHAR(n)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "nullable": self.nullable,
                "description": self.description, "default": self.default, "max_length": self.max_length}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContractColumn:
        return cls(name=data["name"], type=data["type"], nullable=bool(data.get("nullable", True)),
                   description=data.get("description"), default=data.get("default"),
                   max_length=data.get("max_length"))


@dataclass(frozen=True, slots=True)
class Semantics:
    mode: str  # append | upsert
    idempotency_key: tuple[str, ...]
    event_time_column: str
    processing_time_column: str
    dedupe_window: str  # as written, e.g. "24h"
    dedupe_window_seconds: int
    conflict_resolution: str  # latest_wins | error
    unsafe_allow_processing_time: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "idempotency_key": list(self.idempotency_key),
                "event_time_column": self.event_time_column,
                "processing_time_column": self.processing_time_column,
                "dedupe_window": self.dedupe_window, "dedupe_window_seconds": self.dedupe_window_seconds,
                "conflict_resolution": self.conflict_resolution,
                "unsafe_allow_processing_time": self.unsafe_allow_processing_time}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Semantics:
        return cls(mode=d["mode"], idempotency_key=tuple(d["idempotency_key"]),
                   event_time_column=d["event_time_column"], processing_time_column=d["processing_time_column"],
                   dedupe_window=d["dedupe_window"], dedupe_window_seconds=int(d["dedupe_window_seconds"]),
                   conflict_resolution=d["conflict_resolution"],
                   unsafe_allow_processing_time=bool(d.get("unsafe_allow_processing_time", False)))


@dataclass(frozen=True, slots=True)
class Sla:
    max_lag_seconds: int
    alert_threshold_seconds: int | None = None
    schedule: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"max_lag_seconds": self.max_lag_seconds,
                "alert_threshold_seconds": self.alert_threshold_seconds, "schedule": self.schedule}

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> Sla | None:
        if not d:
            return None
        return cls(int(d["max_lag_seconds"]), d.get("alert_threshold_seconds"), d.get("schedule"))


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """A validated contract, before it has a version number."""

    table: str
    description: str | None
    columns: tuple[ContractColumn, ...]
    semantics: Semantics
    sla: Sla | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContractVersionRecord:
    contract_id: str
    version: int
    columns: tuple[ContractColumn, ...]
    semantics: Semantics
    sla: Sla | None
    warnings: tuple[str, ...]
    description: str | None
    created_by: str
    created_at: datetime

    def column(self, name: str) -> ContractColumn | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True, slots=True)
class ContractRecord:
    id: str
    table: str
    created_at: datetime
    newest_event_time: datetime | None
    last_ingested_at: datetime | None
    versions: tuple[ContractVersionRecord, ...]

    @property
    def latest(self) -> ContractVersionRecord:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    contract_id: str
    version: int
    kind: str
    source: str
    actor: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    accepted: int
    duplicates: int
    quarantined: int
    errors: tuple[str, ...]
    operation_id: str | None
    owner: str | None = None  # host:pid:process start of the process landing it
    heartbeat_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OperationRecord:
    id: str
    kind: str
    contract_id: str
    version: int
    params: dict[str, Any]
    fingerprint: str
    status: str
    estimated_rows: int
    estimated_duplicates: int
    created_by: str
    created_at: datetime
    expires_at: datetime
    confirmed_by: str | None
    confirmed_at: datetime | None
    finished_at: datetime | None
    run_id: str | None


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    id: int
    contract_id: str
    version: int
    run_id: str
    received_at: datetime
    line_number: int | None
    reason: str
    raw: str


@dataclass(slots=True)
class Counts:
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.errors.extend(other.errors[: max(0, 50 - len(self.errors))])
