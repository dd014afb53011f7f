"""SQLAlchemy models of the joins area: candidates, rejections, accepted join versions.

The database keeps the one rule it can: at most one ACTIVE version per join id (a partial
unique index, as for table versions), so two admins accepting at once cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, BigId


class JoinCandidateRow(Base):
    __tablename__ = "join_candidates"
    __table_args__ = (
        Index("ix_join_candidates_left_table", "left_table"),
        Index("ix_join_candidates_right_table", "right_table"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # from the normalised condition
    left_table: Mapped[str] = mapped_column(String(255))
    left_columns: Mapped[list[Any]] = mapped_column(JSON)
    right_table: Mapped[str] = mapped_column(String(255))
    right_columns: Mapped[list[Any]] = mapped_column(JSON)
    condition: Mapped[str] = mapped_column(Text)
    join_type: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    risk_level: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    assumptions: Mapped[list[Any]] = mapped_column(JSON)
    evidence: Mapped[list[Any]] = mapped_column(JSON)
    validation_stats: Mapped[Any] = mapped_column(JSON, nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JoinRejectionRow(Base):
    """Every rejection, kept: the latest one decides whether the candidate is suggested again."""

    __tablename__ = "join_rejections"
    __table_args__ = (Index("ix_join_rejections_candidate", "candidate_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("join_candidates.id", ondelete="RESTRICT"))
    category: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AcceptedJoinRow(Base):
    __tablename__ = "accepted_joins"
    __table_args__ = (
        UniqueConstraint("join_id", "version", name="uq_accepted_joins_join_version"),
        Index("uq_accepted_joins_one_active", "join_id", unique=True,
              sqlite_where=text("state = 'ACTIVE'"), postgresql_where=text("state = 'ACTIVE'")),
        Index("ix_accepted_joins_left_table", "left_table"),
        Index("ix_accepted_joins_right_table", "right_table"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    join_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    left_table: Mapped[str] = mapped_column(String(255))
    left_columns: Mapped[list[Any]] = mapped_column(JSON)
    right_table: Mapped[str] = mapped_column(String(255))
    right_columns: Mapped[list[Any]] = mapped_column(JSON)
    condition: Mapped[str] = mapped_column(Text)
    join_type: Mapped[str] = mapped_column(String(16))
    candidate_id: Mapped[str | None] = mapped_column(String(40))
    accepted_by: Mapped[str] = mapped_column(String(320))
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rationale: Mapped[str] = mapped_column(Text)
    validation_stats: Mapped[Any] = mapped_column(JSON, nullable=True)
    supersedes: Mapped[int | None] = mapped_column(Integer)
    deprecated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deprecated_by: Mapped[str | None] = mapped_column(String(320))
    deprecation_reason: Mapped[str | None] = mapped_column(Text)
