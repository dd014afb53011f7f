"""The live-events outbox: every published event, for the other workers to tail (kept a day)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, BigId


class OutboxEventRow(Base):
    __tablename__ = "events"
    # AUTOINCREMENT on SQLite: an id is never reused, even after retention empties the table.
    __table_args__ = (Index("ix_events_created_at", "created_at"), {"sqlite_autoincrement": True})

    # Readers tail by primary key (id > last seen); PostgreSQL writers serialize on an advisory
    # lock, so ids become visible in order and a reader never skips a late commit.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    origin: Mapped[str] = mapped_column(String(64))  # the publishing bus, so it skips its own
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
