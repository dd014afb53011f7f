"""Stored query previews and the record of every execution."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, BigId


class QueryPreviewRow(Base):
    __tablename__ = "query_previews"
    __table_args__ = (Index("ix_query_previews_author", "author", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    author: Mapped[str] = mapped_column(String(320))
    author_role: Mapped[str] = mapped_column(String(16))
    original_sql: Mapped[str] = mapped_column(Text)
    dialect: Mapped[str] = mapped_column(String(32))
    pins: Mapped[list[Any]] = mapped_column(JSON, default=list)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    catalog_epoch: Mapped[int] = mapped_column(BigInteger)
    parent_id: Mapped[str | None] = mapped_column(String(36))
    skip_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class QueryExecutionRow(Base):
    __tablename__ = "query_executions"
    __table_args__ = (
        Index("ix_query_executions_actor", "actor", "at"),
        Index("ix_query_executions_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    preview_id: Mapped[str] = mapped_column(String(36))
    actor: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    sql: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(32))
    row_count: Mapped[int | None] = mapped_column(Integer)
    elapsed_ms: Mapped[float | None] = mapped_column(Float)
    # Which tables and accepted joins it touched: join evidence and usage counts read these.
    tables: Mapped[list[Any]] = mapped_column(JSON, default=list)
    joins: Mapped[list[Any]] = mapped_column(JSON, default=list)
    overrides: Mapped[list[Any]] = mapped_column(JSON, default=list)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
