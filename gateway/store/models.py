"""SQLAlchemy models of the catalog. Only ``gateway.store`` and ``migrations/env.py`` import this.

The database guarantees the invariants it can: at most one ACTIVE version per logical table
(a partial unique index, on SQLite and PostgreSQL alike) and an append-only audit log
(triggers, created by the migration).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, but INTEGER on SQLite so that it is the rowid and autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class LogicalTableRow(Base):
    __tablename__ = "logical_tables"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    versions: Mapped[list[TableVersionRow]] = relationship(
        back_populates="table", order_by="TableVersionRow.version", lazy="selectin"
    )


class TableVersionRow(Base):
    __tablename__ = "table_versions"
    __table_args__ = (
        UniqueConstraint("table_id", "version", name="uq_table_versions_table_version"),
        # The one-ACTIVE-per-table rule, enforced by the database itself.
        Index(
            "uq_table_versions_one_active",
            "table_id",
            unique=True,
            sqlite_where=text("state = 'ACTIVE'"),
            postgresql_where=text("state = 'ACTIVE'"),
        ),
        Index("ix_table_versions_physical_name", "physical_name", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("logical_tables.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    physical_name: Mapped[str] = mapped_column(String(255))
    columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    foreign_keys: Mapped[list[Any]] = mapped_column(JSON, default=list)
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    # Measured statistics of the columns (gateway.records.ColumnStatistics.as_json); NULL: not measured.
    column_stats: Mapped[Any] = mapped_column(JSON, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(320))
    supersedes: Mapped[int | None] = mapped_column(Integer)
    schema_version: Mapped[str] = mapped_column(String(32), default="1.0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deprecated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    table: Mapped[LogicalTableRow] = relationship(back_populates="versions", lazy="joined")


class StateHistoryRow(Base):
    __tablename__ = "state_history"
    __table_args__ = (Index("ix_state_history_table", "table_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("logical_tables.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    transition: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PromotionRow(Base):
    __tablename__ = "promotions"
    __table_args__ = (Index("ix_promotions_table", "table_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("logical_tables.id", ondelete="RESTRICT"))
    promoted_version: Mapped[int] = mapped_column(Integer)
    previous_active_version: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rolled_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserRow(Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SystemConfigRow(Base):
    __tablename__ = "system_config"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CatalogEpochRow(Base):
    """One row whose counter moves on every change that alters what a query resolves to.

    Planner caches key on it; an atomic ``epoch = epoch + 1`` keeps concurrent writers from
    losing a bump, so every worker that sees a new value rebuilds its snapshot.
    """

    __tablename__ = "catalog_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_actor", "actor", "id"),
        Index("ix_audit_events_entity", "entity_type", "entity_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(255))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64))


metadata = Base.metadata
