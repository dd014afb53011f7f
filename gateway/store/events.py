"""The live-events outbox repository: append, tail by id, prune. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.events_models import OutboxEventRow

# Any constant will do: it names the one lock that orders outbox writers on PostgreSQL.
_APPEND_LOCK = 0x5350594E45  # "SPYNE"


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    id: int
    origin: str
    payload: dict[str, Any]


class EventsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, origin: str, kind: str, at: datetime, payload: dict[str, Any]) -> int:
        if self._session.get_bind().dialect.name == "postgresql":
            # Writers take ids in lock order and commit before the next one takes its id, so a
            # reader that saw id n has seen every committed id below n: `id > last` never skips.
            await self._session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
        row = OutboxEventRow(origin=origin, kind=kind, created_at=at, payload=payload)
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def after(self, last_id: int, limit: int) -> list[OutboxRecord]:
        rows = await self._session.execute(
            select(OutboxEventRow.id, OutboxEventRow.origin, OutboxEventRow.payload)
            .where(OutboxEventRow.id > last_id).order_by(OutboxEventRow.id).limit(limit))
        return [OutboxRecord(int(r.id), r.origin, dict(r.payload)) for r in rows]

    async def newest_id(self, before: datetime | None = None) -> int:
        query = select(func.max(OutboxEventRow.id))
        if before is not None:
            query = query.where(OutboxEventRow.created_at < before)
        return int(await self._session.scalar(query) or 0)

    async def prune(self, older_than: datetime) -> int:
        result = await self._session.execute(delete(OutboxEventRow).where(OutboxEventRow.created_at < older_than))
        return int(getattr(result, "rowcount", 0) or 0)
