"""Catalog-side models of ingestion: contracts and their versions, runs, replay/backfill operations.

What must commit atomically with the data (landing log, quarantine, idempotency keys, batch
checkpoints) lives warehouse-side instead, next to the target tables: see
``gateway.warehouse.ingest_tables``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, BigId


class ContractRow(Base):
    """One contract per logical table; its id is the table's name. Freshness is kept here."""

    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    newest_event_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_ingested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ContractVersionRow(Base):
    """Contract version N describes table version N of the same logical table."""

    __tablename__ = "contract_versions"
    __table_args__ = (UniqueConstraint("contract_id", "version", name="uq_contract_versions_contract_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    semantics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sla: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IngestionRunRow(Base):
    __tablename__ = "ingestion_runs"
    __table_args__ = (Index("ix_ingestion_runs_contract", "contract_id", "started_at"),
                      Index("ix_ingestion_runs_status", "status"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # INGEST, REPLAY, BACKFILL
    source: Mapped[str] = mapped_column(String(32))  # graphql, ndjson, landing, file, table
    actor: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16))  # gateway.ingestion_records.RunStatus
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    operation_id: Mapped[str | None] = mapped_column(String(64))
    # Liveness (migration 0007): the process landing the run, and when it last said so.
    owner: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IngestionOperationRow(Base):
    """A replay or backfill: recorded by its dry run, carried out by ``confirmOperation``."""

    __tablename__ = "ingestion_operations"
    __table_args__ = (Index("ix_ingestion_operations_contract", "contract_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # REPLAY, BACKFILL
    contract_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fingerprint: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # PENDING, RUNNING, DONE, FAILED
    estimated_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    estimated_duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str | None] = mapped_column(String(320))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_id: Mapped[str | None] = mapped_column(String(64))
