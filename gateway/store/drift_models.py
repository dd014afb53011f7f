"""Stored drift reports, and the value baselines that let the next refresh recognise renames."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, BigId


class DriftReportRow(Base):
    __tablename__ = "drift_reports"
    __table_args__ = (
        Index("ix_drift_reports_table", "table_name", "id"),
        Index("ix_drift_reports_contract", "contract_id", "id"),
        Index("ix_drift_reports_fingerprint", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(255))
    contract_id: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16))
    from_version: Mapped[int | None] = mapped_column(Integer)
    to_version: Mapped[int | None] = mapped_column(Integer)
    from_schema_version: Mapped[str | None] = mapped_column(String(32))
    to_schema_version: Mapped[str | None] = mapped_column(String(32))
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(16))
    migration_guide: Mapped[str] = mapped_column(Text)
    version_rule: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    detected_by: Mapped[str] = mapped_column(String(320))
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(Text)


class DriftBaselineRow(Base):
    """Value fingerprints of one table version's columns, as last measured.

    A renamed column no longer exists in the warehouse when the rename is noticed, so its
    fingerprint must have been taken before: every refresh leaves one for the next.
    """

    __tablename__ = "drift_baselines"
    __table_args__ = (UniqueConstraint("table_name", "version", name="uq_drift_baselines_table_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    fingerprints: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
